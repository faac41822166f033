// The data plane owns every fd handed to attachSim/attachDevice, also when the call throws (a bad
// argument, a closed plane): such a call must not leave the fds open in the daemon.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeFd, seqpacketPair } from '../../../src/native/seqpacket.js';
import { PlaneRig } from '../../helpers/plane-rig.js';

const open = (fd: number) => existsSync(`/proc/self/fd/${fd}`);
const rigs: PlaneRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

function fds(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b] = seqpacketPair();
    closeFd(b);
    out.push(a);
  }
  return out;
}

describe('fds handed to a data plane', () => {
  it('are closed when attachSim throws on a bad argument', () => {
    const rig = new PlaneRig();
    rigs.push(rig);
    const [data, bell, ring] = fds(3) as [number, number, number];
    expect(() => rig.plane.attachSim(data, bell, ring, 1, 8)).toThrow(/maxPayload/);
    expect([data, bell, ring].map(open)).toEqual([false, false, false]);
  });

  it('are closed when attachDevice throws on a bad argument or a closed plane', () => {
    const rig = new PlaneRig();
    const [bad, late] = fds(2) as [number, number];
    expect(() => rig.plane.attachDevice(bad, { maxPayload: 3, batchIoctl: false, room: 'pollout', busyErrnos: [], dropErrnos: [], retryMinMs: 2, retryMaxMs: 50 })).toThrow(/maxPayload/);
    rig.close();
    expect(() => rig.plane.attachDevice(late, { maxPayload: 496, batchIoctl: false, room: 'pollout', busyErrnos: [], dropErrnos: [], retryMinMs: 2, retryMaxMs: 50 })).toThrow();
    expect([bad, late].map(open)).toEqual([false, false]);
  });
});
