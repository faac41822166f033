// The namespaces of one describe block: made before its tests, removed after them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createTestNetns, deleteTestNetns, requireRoot } from './netns.js';

/**
 * For the describe block it is called in: root and the tools checked, namespaces `lnx` and `vx` and a
 * scratch directory made before its tests, all removed after them (after the block's own afterAll hooks,
 * which run first: a daemon stopped there still finds its namespaces).
 */
export function useTestNamespaces(lnx: string, vx: string): { readonly dir: string } {
  let dir = '';
  beforeAll(() => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), `${lnx}-`));
    createTestNetns(lnx);
    createTestNetns(vx);
  });
  afterAll(() => {
    deleteTestNetns(lnx);
    deleteTestNetns(vx);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
  };
}

