// sd_notify from the native binding, received on a datagram socket the test binds (as systemd would),
// and the SystemdNotifier the daemon uses: READY/STATUS/RELOADING/STOPPING and watchdog keep-alives.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemdNotifier } from '../../../daemon/systemd.js';
import { sdNotify } from '../../../src/native/index.js';
import { NotifyListener } from '../../helpers/notify-socket.js';

const dir = mkdtempSync(join(tmpdir(), 'rpmsg-eth-notify-'));
const log = pino({ level: 'silent' });

describe('sdNotify', () => {
  const listener = new NotifyListener(join(dir, 'notify.sock'));
  const abstract = new NotifyListener(`@rpmsg-eth-test-${process.pid}`);
  beforeAll(() => Promise.all([listener.listening, abstract.listening]));
  afterAll(() => {
    listener.close();
    abstract.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one datagram to a path socket and to an abstract one', async () => {
    sdNotify(listener.path, 'READY=1\nSTATUS=17 interfaces up');
    expect((await listener.waitFor('READY', '1')).fields).toEqual({ READY: '1', STATUS: '17 interfaces up' });
    sdNotify(abstract.path, 'WATCHDOG=1');
    expect((await abstract.waitFor('WATCHDOG', '1')).raw).toBe('WATCHDOG=1');
  });

  it('fails with the address and the reason', () => {
    expect(() => sdNotify(join(dir, 'nobody.sock'), 'READY=1')).toThrow(/notifying systemd on .*nobody\.sock: sendto: .*\(ENOENT\)/);
    expect(() => sdNotify('relative.sock', 'READY=1')).toThrow(/NOTIFY_SOCKET must be an absolute path or @abstract name/);
    expect(() => sdNotify(`/${'x'.repeat(200)}`, 'READY=1')).toThrow(/at most 107 bytes/);
  });

  it('SystemdNotifier: takes the variables out of the environment and sends the lifecycle states', async () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: '300000', WATCHDOG_PID: String(process.pid) };
    const n = new SystemdNotifier(log, env);
    expect(env).toEqual({});
    expect(n.watchdogIntervalMs).toBe(150);
    n.startWatchdog();
    n.ready(3);
    n.reloading();
    n.stopping();
    expect((await listener.waitFor('STATUS', '3 interfaces up')).fields.READY).toBe('1');
    const reloading = await listener.waitFor('RELOADING', '1');
    expect(Number(reloading.fields.MONOTONIC_USEC)).toBeGreaterThan(0);
    expect((await listener.waitFor('STOPPING', '1')).fields.STATUS).toMatch(/^stopping/);
    expect(listener.messages.some((m) => m.raw === 'WATCHDOG=1')).toBe(true);
  });

  it('SystemdNotifier: the keep-alive is an event-loop timer, so a wedged loop sends none', async () => {
    const wedge = new NotifyListener(join(dir, 'wedge.sock'));
    await wedge.listening;
    try {
      const n = new SystemdNotifier(log, { NOTIFY_SOCKET: wedge.path, WATCHDOG_USEC: '100000' }); // every 50 ms
      n.startWatchdog();
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      while (performance.now() - t0 < 800); // the loop is stuck: no timer runs
      await new Promise((r) => setTimeout(r, 300));
      n.stopping();
      await wedge.waitFor('STOPPING', '1');
      const at = wedge.messages.filter((m) => m.raw === 'WATCHDOG=1').map((m) => m.atMs);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      expect(at.length).toBeGreaterThanOrEqual(6);
      expect(Math.max(...gaps)).toBeGreaterThanOrEqual(700); // systemd (WatchdogSec=100ms) would have fired
    } finally {
      wedge.close();
    }
  });

  it('SystemdNotifier: no watchdog for another pid, and nothing at all without NOTIFY_SOCKET', () => {
    expect(new SystemdNotifier(log, { NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: '300000', WATCHDOG_PID: '1' }).watchdogIntervalMs).toBeUndefined();
    const off = new SystemdNotifier(log, { WATCHDOG_USEC: '300000' });
    expect(off.enabled).toBe(false);
    expect(off.watchdogIntervalMs).toBeUndefined();
    off.ready(1); // a no-op, not an error
  });
});
