// How each transport learns it may send again after the device refused a message with EAGAIN:
// kmod waits for POLLOUT (the module reports it truthfully); rpmsg-char retries on a backing-off
// timer and never asks for POLLOUT (virtio's rpmsg_char never reports it).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageFd } from '../../../src/native/index.js';
import { KmodTransport } from '../../../src/transport/kmod.js';
import { RpmsgCharTransport } from '../../../src/transport/rpmsg-char.js';
import type { ChannelLink, Transport } from '../../../src/transport/transport.js';
import { Recorder, StandInDevice, batchOf, silentLog, testPlan, until } from './stand-in.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

async function openWith(transport: Transport, device: StandInDevice) {
  const events = new Recorder();
  const link = await transport.open(testPlan(), events);
  cleanups.push(() => device.closeAll());
  cleanups.push(() => transport.close());
  return { link, events };
}

/** Offers batches of 64 until the link says busy; the number of messages it took. */
function fillUntilBusy(link: ChannelLink): number {
  let sent = 0;
  for (let round = 0; round < 500; round++) {
    const { consumed, busy } = link.send(batchOf(Array.from({ length: 64 }, () => 400), 496), 0);
    sent += consumed;
    if (busy) return sent;
  }
  throw new Error('the stand-in never filled up');
}

describe('kmod: busy until POLLOUT', () => {
  it('reports busy when the device is full and calls onWritable once it has room again', async () => {
    const device = new StandInDevice();
    const waitWritable = vi.spyOn(MessageFd.prototype, 'waitWritable');
    const { link, events } = await openWith(new KmodTransport({ log: silentLog, device: () => device }), device);
    const remote = device.remote!;
    remote.pause();
    const sent = fillUntilBusy(link);
    expect(sent).toBeGreaterThan(0);
    expect(waitWritable).toHaveBeenCalled();
    // No room while the remote reads nothing: no onWritable.
    await new Promise((r) => setTimeout(r, 100));
    expect(events.writable).toBe(0);
    remote.resume();
    await until('onWritable', () => events.writable === 1);
    await remote.waitReceived(sent);
    expect(remote.received).toHaveLength(sent);
    // Room again: the rest goes.
    expect(link.send(batchOf([100, 101], 496), 0)).toEqual({ consumed: 2, busy: false });
  });
});

describe('rpmsg-char: busy, then retried on a timer, never on POLLOUT', () => {
  it('calls onWritable from a backing-off timer while the device stays full, and never waits for POLLOUT', async () => {
    const device = new StandInDevice();
    const waitWritable = vi.spyOn(MessageFd.prototype, 'waitWritable');
    const transport = new RpmsgCharTransport({ log: silentLog, device: () => device, retryMinMs: 2, retryMaxMs: 40 });
    const { link, events } = await openWith(transport, device);
    const remote = device.remote!;
    remote.pause();
    let sent = fillUntilBusy(link);
    // The bridge's answer to onWritable is to offer the rest again; the device is still full.
    const times: number[] = [];
    let stillBusy = 0;
    events.onWritableHook = () => {
      times.push(performance.now());
      const r = link.send(batchOf([400], 496), 0);
      sent += r.consumed;
      if (r.busy) stillBusy++;
    };
    await until('eight retries', () => events.writable >= 8, 2000);
    expect(stillBusy).toBe(events.writable); // every retry found it full: no POLLOUT could have helped
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Backing off: short first, then capped at retryMaxMs.
    expect(gaps[0]!).toBeLessThan(30);
    expect(Math.max(...gaps)).toBeLessThan(40 + 30);
    expect(gaps.at(-1)!).toBeGreaterThanOrEqual(35);

    remote.resume();
    await until('a retry that gets through', () => events.writable > 0 && stillBusy < events.writable, 2000);
    events.onWritableHook = undefined;
    await remote.waitReceived(sent);
    expect(waitWritable).not.toHaveBeenCalled();
  });

  it('treats ENOMEM (older kernels without the EAGAIN mapping) as busy, not as a lost link', async () => {
    const device = new StandInDevice();
    const { link, events } = await openWith(
      new RpmsgCharTransport({ log: silentLog, device: () => device, retryMinMs: 1 }),
      device,
    );
    const writeBatch = vi.spyOn(MessageFd.prototype, 'writeBatch').mockReturnValueOnce(1);
    vi.spyOn(MessageFd.prototype, 'lastErrno', 'get').mockReturnValue(12 /* ENOMEM */);
    expect(link.send(batchOf([100, 101, 102], 496), 0)).toEqual({ consumed: 1, busy: true });
    expect(writeBatch).toHaveBeenCalledTimes(1);
    expect(link.up).toBe(true);
    await until('timer retry', () => events.writable === 1);
  });

  it('kmod drops just the frame on ENOMEM (module out of memory) and keeps the link', async () => {
    const device = new StandInDevice();
    const { link, events } = await openWith(new KmodTransport({ log: silentLog, device: () => device }), device);
    vi.spyOn(MessageFd.prototype, 'writeBatch').mockReturnValueOnce(1).mockReturnValueOnce(1);
    vi.spyOn(MessageFd.prototype, 'lastErrno', 'get').mockReturnValue(12 /* ENOMEM */);
    expect(link.send(batchOf([100, 101, 102], 496), 0)).toEqual({ consumed: 3, busy: false });
    expect(events.drops).toEqual([{ reason: 'busy', direction: 'tx', bytes: 101 }]);
    expect(link.up).toBe(true);
  });

  it('any other write error (EPIPE: endpoint destroyed) takes the link down and drops the rest', async () => {
    const device = new StandInDevice();
    device.present = true;
    const { link, events } = await openWith(new RpmsgCharTransport({ log: silentLog, device: () => device, reopenMs: 10_000 }), device);
    vi.spyOn(MessageFd.prototype, 'writeBatch').mockReturnValueOnce(1);
    vi.spyOn(MessageFd.prototype, 'lastErrno', 'get').mockReturnValue(32 /* EPIPE */);
    expect(link.send(batchOf([100, 101, 102], 496), 0)).toEqual({ consumed: 3, busy: false });
    // Not inside send(): the caller is in the middle of its own bookkeeping.
    expect(events.linkChanges).toEqual([true]);
    await Promise.resolve();
    expect(link.up).toBe(false);
    expect(events.linkChanges).toEqual([true, false]);
    expect(events.drops).toEqual([
      { reason: 'linkDown', direction: 'tx', bytes: 101 },
      { reason: 'linkDown', direction: 'tx', bytes: 102 },
    ]);
  });
});
