#!/usr/bin/env node
// Converts frag/vectors/frag-v1.json into the whitespace-separated line format read by
// frag_vectors_test.c (format described at the top of that file), on stdout:
//   node frag/test/vectors-to-lines.mjs | ./frag_vectors_test
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REASONS = ['lost', 'duplicate', 'truncated', 'overlong', 'badVersion', 'badHeader', 'timeout'];
export function vectorsToLines(v) {
  const out = [];
  const h = (s) => (s && s.length > 0 ? s : '-');
  const name = (s) => s.replace(/\s+/g, '_');
  const fails = (f) => (f.length > 0 ? f.join(',') : '-');
  for (const e of v.encode) {
    out.push(`ENC ${e.maxPayload} ${e.seq} ${e.frame} ${e.messages.length} ${name(e.name)}`);
    for (const m of e.messages) out.push(`MSG ${m}`);
  }
  for (const r of v.encodeRejects) out.push(`REJ ${r.maxPayload} ${r.length} ${r.reason} ${name(r.name)}`);
  for (const d of v.decode) {
    out.push(`DEC ${d.maxFrame} ${d.timeoutMs} ${d.steps.length} ${name(d.name)}`);
    for (const s of d.steps) {
      if (s.tick) out.push(`TICK ${s.at} ${fails(s.failures)}`);
      else out.push(`PUSH ${s.at} ${h(s.message)} ${s.expect} ${h(s.frame)} ${s.discarded ? 1 : 0} ${fails(s.failures)}`);
    }
    const c = d.counters;
    out.push(`END ${c.fragmentsReceived} ${c.fragmentsDiscarded} ${c.framesReassembled} ${c.rawFrames} ${c.controlReceived} ` +
      REASONS.map((r) => c.failures[r]).join(' '));
  }
  for (const p of v.probes.encode) {
    const f = p.fields;
    out.push(`PENC ${f.type} ${f.version} ${f.maxFrame} ${f.nonce} ${p.message} ${name(p.name)}`);
  }
  for (const p of v.probes.parse) {
    const f = p.fields ?? { type: 0, version: 0, maxFrame: 0, nonce: 0 };
    out.push(`PPARSE ${h(p.message)} ${p.fields ? 1 : 0} ${f.type} ${f.version} ${f.maxFrame} ${f.nonce} ${name(p.name)}`);
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] ?? fileURLToPath(new URL('../vectors/frag-v1.json', import.meta.url));
  process.stdout.write(vectorsToLines(JSON.parse(readFileSync(file, 'utf8'))));
}
