// Issue 6: a crashed run (SIGKILL) leaves its namespaces and control socket behind; the next start
// cleans them up instead of tripping over them.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon.js';
import { deleteTestNetns, netnsExists, requireRoot, sh } from '../helpers/netns.js';

const LNX = 'rpe-t6c-lnx';
const VX = 'rpe-t6c-vx';

describe('leftovers of a crashed run', () => {
  beforeAll(() => requireRoot());
  afterAll(() => {
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
  });

  it('are removed by the next start', async () => {
    const crashed = new DaemonProcess(['config/lanta.dts', '--netns', LNX, '--peer-netns', VX, '--channels', '1']);
    await crashed.ready();
    expect(await crashed.stop('SIGKILL')).toBe('SIGKILL');
    expect(netnsExists(LNX)).toBe(true);
    expect(netnsExists(VX)).toBe(true);
    expect(existsSync(crashed.controlSocket)).toBe(true);

    const next = new DaemonProcess(['config/lanta.dts', '--netns', LNX, '--peer-netns', VX, '--channels', '1'], crashed.controlSocket);
    // Same control socket path as the crashed run: stale, so it must be replaced, not refused.
    try {
      await next.ready();
      const cleaned = next.lines.filter((l) => /left over by a crashed run/.test(l.msg)).map((l) => l.netns);
      expect(cleaned.sort()).toEqual([LNX, VX].sort());
      const r = sh('ip', ['netns', 'exec', LNX, 'ping', '-c', '1', '-W', '2', '169.254.101.2']);
      expect(r).toMatch(/1 received/);
    } finally {
      expect(await next.stop()).toBe(0);
    }
    expect(netnsExists(LNX)).toBe(false);
    expect(netnsExists(VX)).toBe(false);
  });

  it('a second daemon on a live control socket is refused', async () => {
    const first = new DaemonProcess(['config/lanta.dts', '--netns', LNX, '--peer-netns', VX, '--channels', '1']);
    try {
      await first.ready();
      const second = new DaemonProcess(['config/lanta.dts', '--netns', 'rpe-t6c-2', '--peer-netns', 'rpe-t6c-3', '--channels', '2'], first.controlSocket);
      expect(await second.exited).toBe(1);
      expect(second.stderr).toMatch(/another rpmsg-eth daemon is running/);
      expect(netnsExists('rpe-t6c-2')).toBe(false);
    } finally {
      await first.stop();
    }
  });
});
