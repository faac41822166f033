// Run by batch-ioctl.test.ts in a child node with rpmsg-eth-shim.so preloaded: drives the data plane's
// device endpoint in batch-ioctl mode over seqpacket pairs and prints what it saw as one JSON object.
import { readSync, writeSync } from 'node:fs';
import { DataPlane, seqpacketPair, rpmsgEthInfo } from '../../../dist/src/native/index.js';

const out = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}
function drain(fd) {
  const got = [];
  const buf = Buffer.alloc(2048);
  for (;;) {
    try {
      got.push(Buffer.from(buf.subarray(0, readSync(fd, buf))));
    } catch {
      return got;
    }
  }
}
function put(fd, frames) {
  let n = 0;
  for (const f of frames) {
    try {
      writeSync(fd, f);
    } catch {
      return n;
    }
    n++;
  }
  return n;
}
function frame(len, i) {
  const f = Buffer.alloc(len);
  for (let j = 0; j < len; j++) f[j] = (i * 7 + j) & 0xff;
  f[0] = 2;
  return f;
}
/**
 * A data plane whose "TAP" is a seqpacket pair too; the device pair's far end is the remote.
 * `beforeAttach(remote)` runs before the plane reads the device: what it queues is there at once.
 */
function plane(opts = {}, beforeAttach = () => {}) {
  const [tapOurs, tap] = seqpacketPair();
  const [devOurs, remote] = seqpacketPair();
  const losses = [];
  beforeAttach(remote);
  const p = new DataPlane(tapOurs, { tapSlot: 496, frag: false }, {
    onLinkLost: (errno) => losses.push(errno),
    onModeChange() {},
    onCapture() {},
    onTapHangup() {},
  });
  p.attachDevice(devOurs, { maxPayload: 496, batchIoctl: true, room: 'pollout', busyErrnos: [11], dropErrnos: [12, 105], retryMinMs: 2, retryMaxMs: 50, ...opts });
  return { p, tap, remote, losses };
}

// 1. INFO through the shim.
{
  const [a, b] = seqpacketPair();
  out.info = rpmsgEthInfo(a);
}

// 2. tx: 300 frames offered at once go out in write ioctls of several frames, bytes exact.
{
  const { p, tap, remote } = plane();
  const frames = Array.from({ length: 300 }, (_, i) => frame(14 + (i % 20), i));
  let offered = put(tap, frames);
  const got = [];
  await until(() => {
    got.push(...drain(remote));
    if (offered < frames.length) offered += put(tap, frames.slice(offered));
    return got.length >= frames.length;
  });
  out.txExact = got.length === frames.length && frames.every((f, i) => f.equals(got[i]));
  out.txPackets = p.counters().txPackets;
  p.close();
}

// 3. EMSGSIZE from the module (its maxPayload 200 < ours): that frame is dropped oversize, the rest go.
{
  process.env.RPMSG_SHIM_MAX_PAYLOAD = '200';
  const { p, tap, remote } = plane();
  put(tap, [frame(100, 1), frame(250, 2), frame(100, 3)]);
  const got = [];
  await until(() => (got.push(...drain(remote)), got.length >= 2));
  await sleep(20);
  out.overSent = got.map((g) => g.length);
  out.overDrops = p.counters().txOversize;
  delete process.env.RPMSG_SHIM_MAX_PAYLOAD;
  p.close();
}

// 4. A full queue (EAGAIN): frames wait; POLLOUT once the remote drains; all arrive in order.
{
  const { p, tap, remote } = plane();
  const frames = Array.from({ length: 2000 }, (_, i) => {
    const f = frame(150, i);
    f.writeUInt32BE(i, 14);
    return f;
  });
  let offered = put(tap, frames);
  await sleep(100);
  out.heldWhileFull = p.counters().txPackets < 2000;
  const got = [];
  await until(() => {
    got.push(...drain(remote));
    if (offered < frames.length) offered += put(tap, frames.slice(offered));
    return got.length >= frames.length;
  }, 10_000);
  out.fullInOrder = got.length === 2000 && got.every((g, i) => g.readUInt32BE(14) === i);
  out.fullDrops = p.counters().txBusy + p.counters().txOversize;
  p.close();
}

// 5. rx: 100 frames in READ_BATCH ioctls, one longer than the slot (taken out whole, counted oversize);
//    then the remote closes: EPIPE from READ_BATCH is the link lost with EPIPE. The frames are queued
//    before the plane reads: how many each READ_BATCH finds does not depend on thread timing.
{
  const sizes = Array.from({ length: 100 }, (_, i) => (i === 40 ? 600 : 20 + i));
  const frames = sizes.map((n, i) => frame(n, i));
  const { p, tap, remote, losses } = plane({}, (r) => (out.rxSent = put(r, frames)));
  const got = [];
  await until(() => (got.push(...drain(tap)), got.length >= 99));
  out.rxExact = got.length === 99 && frames.filter((_, i) => i !== 40).every((f, i) => f.equals(got[i]));
  out.rxOversize = p.counters().rxOversize;
  const { closeSync } = await import('node:fs');
  closeSync(remote);
  await until(() => losses.length > 0);
  out.hangupErrno = losses[0];
  p.close();
}

// 6. batchIoctl on an fd that is not an rpmsg-eth device is refused, naming the ioctl.
{
  const [tapOurs] = seqpacketPair();
  const p = new DataPlane(tapOurs, { tapSlot: 496, frag: false }, { onLinkLost() {}, onModeChange() {}, onCapture() {}, onTapHangup() {} });
  const [pa] = seqpacketPair();
  try {
    process.env.RPMSG_SHIM_REFUSE_INFO = '1';
    p.attachDevice(pa, { maxPayload: 496, batchIoctl: true, room: 'pollout', busyErrnos: [11], dropErrnos: [], retryMinMs: 2, retryMaxMs: 50 });
    out.refused = 'no';
  } catch (err) {
    out.refused = err.message;
  } finally {
    delete process.env.RPMSG_SHIM_REFUSE_INFO;
  }
  p.close();
}

console.log(JSON.stringify(out));
process.exit(0);
