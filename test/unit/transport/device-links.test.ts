// The daemon side of the kmod and rpmsg-char transports, against a SOCK_SEQPACKET pair standing in
// for the device (stand-in.ts): frames both ways in batches, oversize and runt drops, back-pressure,
// and the device going away and coming back. Both transports share device-link.ts, so every case
// runs against both; how each learns it may write again differs and has its own tests below.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KmodTransport } from '../../../src/transport/kmod.js';
import { RpmsgCharTransport } from '../../../src/transport/rpmsg-char.js';
import type { Transport } from '../../../src/transport/transport.js';
import { UserError } from '../../../src/util/errors.js';
import {
  Recorder,
  StandInDevice,
  batchOf,
  frame,
  messageOf,
  silentLog,
  testPlan,
  until,
} from './stand-in.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

type Make = (device: StandInDevice) => Transport;
const transports: [string, Make][] = [
  ['kmod', (device) => new KmodTransport({ log: silentLog, reopenMs: 20, device: () => device })],
  ['rpmsg-char', (device) => new RpmsgCharTransport({ log: silentLog, reopenMs: 20, device: () => device })],
];

async function openLink(make: Make, device = new StandInDevice()) {
  const events = new Recorder();
  const transport = make(device);
  const link = await transport.open(testPlan(), events);
  cleanups.push(() => device.closeAll());
  cleanups.push(() => transport.close());
  return { link, events, device, transport };
}

describe.each(transports)('%s transport over a stand-in device', (_name, make) => {
  it('is up with the device maximum payload and moves frames both ways, exact, in batches', async () => {
    const { link, events, device } = await openLink(make, new StandInDevice(300));
    expect(link.up).toBe(true);
    expect(link.maxPayload).toBe(300);
    expect(events.linkChanges).toEqual([true]);

    const out = batchOf(Array.from({ length: 40 }, (_, i) => 14 + i * 7), 300);
    expect(link.send(out, 0)).toEqual({ consumed: 40, busy: false });
    const remote = device.remote!;
    await remote.waitReceived(40);
    for (let i = 0; i < 40; i++) expect(remote.received[i]!.equals(messageOf(out, i))).toBe(true);

    const back = Array.from({ length: 30 }, (_, i) => frame(60 + i * 8, i));
    expect(remote.send(back)).toBe(30);
    await until('30 messages', () => events.messages.length === 30);
    back.forEach((m, i) => expect(events.messages[i]!.equals(m)).toBe(true));
    // Delivered in batches, not one call per message.
    expect(events.batchSizes.length).toBeLessThan(30);
  });

  it('starts sending at `start`, skips messages already dropped (length 0)', async () => {
    const { link, device } = await openLink(make);
    const out = batchOf([100, 0, 101, 102], 496);
    expect(link.send(out, 1)).toEqual({ consumed: 3, busy: false });
    await device.remote!.waitReceived(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(device.remote!.received.map((m) => m.length)).toEqual([101, 102]);
  });

  it('drops and counts oversize messages both ways, and runts on arrival, without losing the rest', async () => {
    const { link, events, device } = await openLink(make, new StandInDevice(200));
    // 250 > maxPayload 200: the slot is large enough, the link must refuse it.
    const out = batchOf([100, 250, 120, 201, 130], 300);
    expect(link.send(out, 0)).toEqual({ consumed: 5, busy: false });
    expect(events.drops).toEqual([
      { reason: 'oversize', direction: 'tx', bytes: 250 },
      { reason: 'oversize', direction: 'tx', bytes: 201 },
    ]);
    // Each drop points at its own frame's bytes (for the capture tap).
    expect(events.dropFrames).toEqual([messageOf(out, 1).subarray(0, 16), messageOf(out, 3).subarray(0, 16)]);
    await device.remote!.waitReceived(3);
    expect(device.remote!.received.map((m) => m.length)).toEqual([100, 120, 130]);
    events.dropFrames.length = 0;

    events.drops.length = 0;
    expect(device.remote!.send([frame(50, 1), frame(230, 2), frame(10, 3), frame(200, 4)])).toBe(4);
    await until('two good messages', () => events.messages.length === 2);
    expect(events.messages.map((m) => m.length)).toEqual([50, 200]);
    expect(events.drops).toEqual([
      { reason: 'oversize', direction: 'rx', bytes: 230 },
      { reason: 'runt', direction: 'rx', bytes: 10 },
    ]);
    expect(events.dropFrames).toEqual([frame(230, 2).subarray(0, 16), frame(10, 3)]);
  });

  it('treats a message longer than the batch slot as oversize instead of writing past the slot', async () => {
    const { link, events } = await openLink(make);
    // A TAP frame cut on arrival carries its true length, above the slot (bridge.ts).
    const out = batchOf([100, 150], 128);
    expect(link.send(out, 0)).toEqual({ consumed: 2, busy: false });
    expect(events.drops).toEqual([{ reason: 'oversize', direction: 'tx', bytes: 150 }]);
  });

  it('hangup: link down, sends dropped as linkDown; device back: reopened, link up, frames flow', async () => {
    const { link, events, device } = await openLink(make);
    const first = device.remote!;
    device.present = false;
    first.close();
    await until('link down', () => events.linkChanges.length === 2);
    expect(events.linkChanges).toEqual([true, false]);
    expect(link.up).toBe(false);

    expect(link.send(batchOf([100, 0, 120], 496), 0)).toEqual({ consumed: 3, busy: false });
    expect(events.drops).toEqual([
      { reason: 'linkDown', direction: 'tx', bytes: 100 },
      { reason: 'linkDown', direction: 'tx', bytes: 120 },
    ]);
    // It keeps looking while the device is absent.
    await new Promise((r) => setTimeout(r, 120));
    expect(link.up).toBe(false);
    expect(device.opens).toBe(1);

    device.present = true;
    await until('link up again', () => link.up);
    expect(events.linkChanges).toEqual([true, false, true]);
    expect(device.opens).toBe(2);
    expect(device.released).toEqual([]); // a hangup has nothing left to release
    const second = device.remote!;
    expect(second).not.toBe(first);
    expect(link.send(batchOf([90, 91], 496), 0)).toEqual({ consumed: 2, busy: false });
    await second.waitReceived(2);
    expect(second.send([frame(70, 9)])).toBe(1);
    await until('message after reconnect', () => events.messages.length === 1);
  });

  it('starts link-down when the device is not there yet, with the plan payload, and comes up when it appears', async () => {
    const device = new StandInDevice(400);
    device.present = false;
    const { link, events } = await openLink(make, device);
    expect(link.up).toBe(false);
    expect(link.maxPayload).toBe(496); // the plan's until the device says otherwise
    expect(events.linkChanges).toEqual([]);
    device.present = true;
    await until('link up', () => link.up);
    expect(events.linkChanges).toEqual([true]);
  });

  it('an error opening the device at start reaches the caller; later it is retried', async () => {
    const device = new StandInDevice();
    let fail = true;
    const open = device.open.bind(device);
    device.open = () => {
      if (fail) throw new UserError('no permission');
      return open();
    };
    await expect(make(device).open(testPlan(), new Recorder())).rejects.toThrow('no permission');

    fail = false;
    const { link, device: d } = await openLink(make, device);
    expect(link.up).toBe(true);
    fail = true;
    d.remote!.close();
    await until('link down', () => !link.up);
    await new Promise((r) => setTimeout(r, 80)); // several failed reopen attempts
    fail = false;
    await until('link up after the errors stop', () => link.up);
  });

  it('pauseReceive holds messages in the device until resumeReceive', async () => {
    const { link, events, device } = await openLink(make);
    link.pauseReceive();
    expect(device.remote!.send([frame(60, 1), frame(61, 2)])).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(events.messages).toHaveLength(0);
    link.resumeReceive();
    await until('held messages', () => events.messages.length === 2);
  });

  it('close() releases the device with its open fd, closes it and stops reopening', async () => {
    const { link, transport, events, device } = await openLink(make);
    const remote = device.remote!;
    await transport.close();
    expect(device.released).toHaveLength(1);
    expect(device.released[0]).toBeGreaterThanOrEqual(0);
    expect(link.up).toBe(false);
    expect(events.linkChanges).toEqual([true, false]);
    await until('the remote end to see the close', () => remote.hungUp);
    await new Promise((r) => setTimeout(r, 60));
    expect(device.opens).toBe(1);
  });
});
