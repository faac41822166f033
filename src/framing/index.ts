// The `frag` framing: header format, sender, receiver and negotiation probe (docs/frag-wire-spec.md).
export * from './frag-header.js';
export * from './frag-encoder.js';
export * from './frag-reassembler.js';
export * from './frag-probe.js';
export * from './frag-negotiator.js';
