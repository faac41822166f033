// Compiles the portable C implementation (frag/: the one the data plane, the simulated peer and
// a VxWorks END driver use) with its test program (frag/test) and runs it against the shared vectors
// and against the worked examples of frag/wire-spec.md §7, which a VxWorks developer will copy.
// A missing C compiler fails this test: the framing must not go untested silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorsToLines } from '../../../frag/test/vectors-to-lines.mjs';
import { loadFragVectors, type FragVectors } from './frag-vectors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const lib = join(root, 'frag/rpmsg_frag.c');
const incl = join(root, 'frag');
const prog = join(root, 'frag/test/frag_vectors_test.c');
const CC = process.env.CC ?? 'cc';
const FAILURE_REASONS = ['lost', 'duplicate', 'truncated', 'overlong', 'badVersion', 'badHeader', 'timeout'];

function compilerWorks(): boolean {
  return spawnSync(CC, ['--version'], { stdio: 'ignore' }).status === 0;
}

const spec = readFileSync(join(root, 'frag/wire-spec.md'), 'utf8');

/** Hex bytes of the first ``` block after `heading`, comments (2+ spaces then text) stripped. */
function blockAfter(heading: string): string {
  const at = spec.indexOf(heading);
  if (at < 0) throw new Error(`spec: no "${heading}"`);
  const open = spec.indexOf('```', at);
  const close = spec.indexOf('```', open + 3);
  return spec
    .slice(open + 3, close)
    .split('\n')
    .map((line) => line.replace(/^message \d+, +\d+ bytes: +/, '').split(/ {2,}|\+/)[0] ?? '')
    .join(' ')
    .replace(/[^0-9a-f ]/gi, ' ')
    .split(/\s+/)
    .filter((t) => /^[0-9a-f]{2}$/i.test(t))
    .join('');
}

/** The §7 examples as encode and probe vectors: the bytes printed there are what the C code must make. */
function specExamples(): Pick<FragVectors, 'encode'> & { probes: FragVectors['probes'] } {
  const arp = blockAfter('Frame (42 bytes)');
  const headers = blockAfter('`ceil(1000 / 480) = 3` fragments');
  const big = Buffer.alloc(1000, 0x5a);
  const cuts = [[0, 480], [480, 960], [960, 1000]] as const;
  const messages = cuts.map(([a, b], i) => headers.slice(i * 32, i * 32 + 32) + big.subarray(a, b).toString('hex'));
  return {
    encode: [
      { name: 'spec §7 single-fragment ARP request', maxPayload: 496, seq: 7, frame: arp, messages: [blockAfter('One message of 16 + 42 = 58 bytes')] },
      { name: 'spec §7 1000-byte frame', maxPayload: 496, seq: 8, frame: big.toString('hex'), messages },
    ],
    probes: {
      encode: [
        { name: 'spec §7 PROBE', fields: { type: 1, version: 1, maxFrame: 9014, nonce: 0x12345678 }, message: blockAfter('PROBE from the daemon') },
        { name: 'spec §7 PROBE_REPLY', fields: { type: 2, version: 1, maxFrame: 1514, nonce: 0x12345678 }, message: blockAfter('PROBE_REPLY from a peer') },
      ],
      parse: [],
    },
  };
}

describe('the shared vectors file', () => {
  it('is what the generator produces (not edited by hand, not stale)', () => {
    execFileSync(process.execPath, [join(root, 'frag/vectors/generate-frag-vectors.mjs'), '--check'], { stdio: 'pipe' });
  });
  it('covers every failure reason', () => {
    const seen = new Set(loadFragVectors().decode.flatMap((c) => c.steps.flatMap((s) => s.failures)));
    for (const r of FAILURE_REASONS) expect(seen, r).toContain(r);
  });
});

describe('C implementation (frag/)', () => {
  let dir = '';
  let exe = '';
  beforeAll(() => {
    if (!compilerWorks()) {
      throw new Error(`C compiler "${CC}" not found: install gcc (apt-get install gcc) or set CC; the C framing cannot be tested`);
    }
    dir = mkdtempSync(join(tmpdir(), 'rpmsg-frag-c-'));
    // Sanitizers make any out-of-bounds access fail the run; fall back to a plain build where the
    // toolchain lacks them (the vectors still run).
    exe = join(dir, 'frag_vectors_test');
    const base = ['-std=c99', '-Wall', '-Wextra', '-g', '-O1', '-I', incl, lib, prog, '-o', exe];
    const sanitized = spawnSync(CC, ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', ...base], { encoding: 'utf8' });
    if (sanitized.status !== 0) execFileSync(CC, base, { stdio: 'pipe' });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compiles as strict, warning-free C99 with no OS headers beyond <string.h>', () => {
    execFileSync(CC, ['-std=c99', '-pedantic', '-Wall', '-Wextra', '-Wconversion', '-Wsign-conversion', '-Wshadow',
      '-Wcast-qual', '-Werror', '-O2', '-c', lib, '-I', incl, '-o', join(dir, 'rpmsg_frag.o')], { stdio: 'pipe' });
    // The kernel module builds the same file (kmod/rpmsg_eth_frag.c): its <linux/...> headers only
    // under __KERNEL__, in place of the C library's.
    const userIncludes = (file: string): string[] =>
      (readFileSync(file, 'utf8')
        .replace(/^#ifdef __KERNEL__\n(?:#include <linux\/[a-z_]+\.h>\n)+#else\n/gm, '')
        .match(/^#include\s+\S+/gm) ?? []).sort();
    expect(userIncludes(lib)).toEqual(['#include "rpmsg_frag.h"', '#include <string.h>']);
    expect(userIncludes(join(incl, 'rpmsg_frag.h'))).toEqual(['#include <stddef.h>', '#include <stdint.h>']);
    expect(readFileSync(lib, 'utf8')).not.toMatch(/\b(malloc|calloc|realloc|free)\s*\(/);
  });

  it('passes every vector and spec example, and the clock-wrap, API-edge, negotiation and random-fault checks', () => {
    const v = loadFragVectors();
    const ex = specExamples();
    const all: FragVectors = { ...v, encode: [...v.encode, ...ex.encode], probes: { encode: [...v.probes.encode, ...ex.probes.encode], parse: v.probes.parse } };
    const run = spawnSync(exe, [], { input: vectorsToLines(all), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const report = `${run.stdout}\n${run.stderr}`;
    expect(run.status, report).toBe(0);
    expect(run.stdout).toContain(
      `vectors: ${all.encode.length} encode, ${all.encodeRejects.length} reject, ${all.decode.length} decode, ` +
        `${all.probes.encode.length} probe-encode, ${all.probes.parse.length} probe-parse;`,
    );
    expect(run.stdout).toMatch(/; \d+ checks, 0 failed/);
  });
});
