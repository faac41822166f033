// Compiles the portable C implementation (native/frag) with its test program (test/frag-c) and runs it
// against the same shared vectors as the TypeScript tests, so `npm test` covers both sides of the wire.
// A missing C compiler fails this test: the peer-side code must not go untested silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorsToLines } from '../../frag-c/vectors-to-lines.mjs';
import { loadFragVectors } from './frag-vectors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const lib = join(root, 'native/frag/rpmsg_frag.c');
const incl = join(root, 'native/frag');
const prog = join(root, 'test/frag-c/frag_vectors_test.c');
const CC = process.env.CC ?? 'cc';

function compilerWorks(): boolean {
  return spawnSync(CC, ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('C implementation (native/frag) against the shared vectors', () => {
  let dir = '';
  beforeAll(() => {
    if (!compilerWorks()) {
      throw new Error(`C compiler "${CC}" not found: install gcc (apt-get install gcc) or set CC; the C framing cannot be tested`);
    }
    dir = mkdtempSync(join(tmpdir(), 'rpmsg-frag-c-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the library compiles as strict, warning-free C99 with no OS headers beyond <string.h>', () => {
    execFileSync(CC, ['-std=c99', '-pedantic', '-Wall', '-Wextra', '-Wconversion', '-Wsign-conversion', '-Wshadow',
      '-Wcast-qual', '-Werror', '-O2', '-c', lib, '-I', incl, '-o', join(dir, 'rpmsg_frag.o')], { stdio: 'pipe' });
    const includes = readFileSync(lib, 'utf8').match(/^#include\s+\S+/gm) ?? [];
    expect(includes.sort()).toEqual(['#include "rpmsg_frag.h"', '#include <string.h>']);
    const hdrIncludes = readFileSync(join(incl, 'rpmsg_frag.h'), 'utf8').match(/^#include\s+\S+/gm) ?? [];
    expect(hdrIncludes.sort()).toEqual(['#include <stddef.h>', '#include <stdint.h>']);
    expect(readFileSync(lib, 'utf8')).not.toMatch(/\b(malloc|calloc|realloc|free)\s*\(/);
  });

  it('passes every vector, the clock-wrap, API-edge and random-fault checks', () => {
    // Sanitizers make any out-of-bounds access fail the run; fall back to a plain build where the
    // toolchain lacks them (the vectors still run).
    const exe = join(dir, 'frag_vectors_test');
    const base = ['-std=c99', '-Wall', '-Wextra', '-g', '-O1', '-I', incl, lib, prog, '-o', exe];
    const sanitized = spawnSync(CC, ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', ...base], { encoding: 'utf8' });
    if (sanitized.status !== 0) execFileSync(CC, base, { stdio: 'pipe' });
    const v = loadFragVectors();
    const input = vectorsToLines(v);
    const run = spawnSync(exe, [], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const report = `${run.stdout}\n${run.stderr}`;
    expect(run.status, report).toBe(0);
    expect(run.stdout).toContain(
      `vectors: ${v.encode.length} encode, ${v.encodeRejects.length} reject, ${v.decode.length} decode, ` +
        `${v.probes.encode.length} probe-encode, ${v.probes.parse.length} probe-parse;`,
    );
    expect(run.stdout).toMatch(/; \d+ checks, 0 failed/);
  });
});
