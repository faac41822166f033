// Types for vectors-to-lines.mjs (plain ESM so it also runs without a TypeScript toolchain).
export function vectorsToLines(vectors: unknown): string;
