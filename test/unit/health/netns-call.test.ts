// withNetns: fn runs with the thread inside the namespace, and the thread comes back even if fn throws.
import { readlinkSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../../../src/native/addon.js';
import { withNetns } from '../../../src/native/netns-call.js';
import { createTestNetns, deleteTestNetns, requireRoot } from '../../helpers/netns.js';

const NS = `rpmsg-call-${process.pid}`;
const here = (): string => readlinkSync('/proc/thread-self/ns/net');
const wired = (() => {
  try {
    return typeof (addon() as unknown as { withNetns?: unknown }).withNetns === 'function';
  } catch {
    return false;
  }
})();

describe.skipIf(!wired)('withNetns', () => {
  beforeAll(() => {
    requireRoot();
    createTestNetns(NS);
  });
  afterAll(() => deleteTestNetns(NS));

  it('runs fn inside the namespace and returns its value', () => {
    const before = here();
    expect(withNetns(NS, here)).toBe(`net:[${statSync(`/run/netns/${NS}`).ino}]`);
    expect(here()).toBe(before);
  });

  it('returns the thread to its namespace when fn throws, and rethrows', () => {
    const before = here();
    expect(() =>
      withNetns(NS, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(here()).toBe(before);
  });

  it('names a missing namespace', () => {
    expect(() => withNetns('rpmsg-no-such-ns', here)).toThrow(/open\(\/run\/netns\/rpmsg-no-such-ns\).*ENOENT/);
  });
});

it('without a namespace just calls fn', () => {
  expect(withNetns(undefined, () => 42)).toBe(42);
});
