// Ownership records of the namespaces the daemon creates (issue 13, item 11): a record whose pid now
// belongs to another live process is a leftover, not a namespace to adopt and leave behind.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { leftoverOwner, OwnedNamespaces, processStartTime } from '../../../src/netns/namespaces.js';
import { deleteTestNetns, netnsExists, requireRoot, sh } from '../../helpers/netns.js';

const NS = 'rpe-owner-test';
const record = `/run/rpmsg-eth/netns/${NS}.pid`;

describe('namespace ownership records', () => {
  beforeAll(() => requireRoot());
  afterEach(() => deleteTestNetns(NS));

  it('records the pid with its start time, and removes what it created', async () => {
    const owned = new OwnedNamespaces();
    expect(await owned.ensure(NS)).toEqual({ created: true });
    expect(readFileSync(record, 'utf8')).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
    expect(leftoverOwner(NS)).toBeUndefined(); // our own
    expect(await owned.removeAll()).toEqual([]);
    expect(netnsExists(NS)).toBe(false);
  });

  it('a live process that reuses the recorded pid does not own the namespace', async () => {
    sh('ip', ['netns', 'add', NS]);
    mkdirSync('/run/rpmsg-eth/netns', { recursive: true });
    // pid 1 is alive, but it is not the process that started at tick 1 (that would be before boot ended).
    const wrongStart = String(Number(processStartTime(1)) + 12345);
    writeFileSync(record, `1 ${wrongStart}\n`);
    expect(leftoverOwner(NS)).toBe(1);

    const owned = new OwnedNamespaces();
    expect(await owned.ensure(NS)).toEqual({ created: true, replacedLeftoverOf: 1 });
    await owned.removeAll();
    expect(netnsExists(NS)).toBe(false); // not left behind after a clean stop
  });

  it('the live owner that made it keeps it', () => {
    sh('ip', ['netns', 'add', NS]);
    mkdirSync('/run/rpmsg-eth/netns', { recursive: true });
    writeFileSync(record, `1 ${processStartTime(1)}\n`);
    expect(leftoverOwner(NS)).toBeUndefined();
  });

  it('a namespace without a record is somebody else\'s', () => {
    sh('ip', ['netns', 'add', NS]);
    rmSync(record, { force: true });
    expect(leftoverOwner(NS)).toBeUndefined();
  });
});
