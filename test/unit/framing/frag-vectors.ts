// Loader for the shared `frag` test vectors (frag/vectors/frag-v1.json), typed for the tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface EncodeVector {
  name: string;
  maxPayload: number;
  seq: number;
  frame: string;
  messages: string[];
}
export interface EncodeReject {
  name: string;
  maxPayload: number;
  length: number;
  reason: 'runt' | 'oversize';
}
export interface DecodeStep {
  at: number;
  tick?: boolean;
  message?: string;
  expect?: 'frame' | 'none' | 'control';
  frame?: string;
  failures: string[];
  discarded?: boolean;
}
export interface DecodeVector {
  name: string;
  maxFrame: number;
  timeoutMs: number;
  steps: DecodeStep[];
  counters: {
    fragmentsReceived: number;
    fragmentsDiscarded: number;
    framesReassembled: number;
    rawFrames: number;
    controlReceived: number;
    failures: Record<string, number>;
  };
}
export interface ProbeFields {
  type: number;
  version: number;
  maxFrame: number;
  nonce: number;
}
export interface FragVectors {
  encode: EncodeVector[];
  encodeRejects: EncodeReject[];
  decode: DecodeVector[];
  probes: {
    encode: { name: string; fields: ProbeFields; message: string }[];
    parse: { name: string; message: string; fields: ProbeFields | null }[];
  };
}

export const VECTORS_PATH = fileURLToPath(new URL('../../../frag/vectors/frag-v1.json', import.meta.url));

export function loadFragVectors(): FragVectors {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as FragVectors;
}
