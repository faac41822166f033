// Run by batch-ioctl.test.ts in a child node with rpmsg-eth-shim.so preloaded: drives MessageFd's
// batchIoctl mode over a seqpacket pair and prints what it saw as one JSON object.
import { MessageFd, seqpacketPair, rpmsgEthInfo } from '../../../dist/src/native/index.js';

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
function arena(sizes, slot) {
  const buffer = Buffer.alloc(sizes.length * slot);
  const lengths = new Uint32Array(sizes);
  sizes.forEach((n, i) => {
    for (let j = 0; j < n; j++) buffer[i * slot + j] = (i * 7 + j) & 0xff;
  });
  return { buffer, lengths };
}

// A plain MessageFd on the far end collects messages.
function remoteOf(fd) {
  const got = [];
  const m = new MessageFd(fd, {
    slotSize: 1024,
    batch: 64,
    onReadable(n) {
      for (let i = 0; i < n; i++) got.push(Buffer.from(m.rx.buffer.subarray(i * 1024, i * 1024 + m.rx.lengths[i])));
    },
  });
  return { m, got };
}

// 1. INFO through the shim.
{
  const [a, b] = seqpacketPair();
  out.info = rpmsgEthInfo(a);
  const dev = new MessageFd(a, { slotSize: 496, batch: 8, batchIoctl: true, onReadable() {} });
  dev.close();
  new MessageFd(b, { slotSize: 8, batch: 1, onReadable() {} }).close();
}

// 2. tx: 300 messages (some already dropped, length 0) in one writeBatch; then mid-batch EMSGSIZE.
{
  const [a, b] = seqpacketPair();
  const dev = new MessageFd(a, { slotSize: 496, batch: 8, batchIoctl: true, onReadable() {} });
  const remote = remoteOf(b);
  // Small messages so that all fit the socket buffer; more than one ioctl's worth (256).
  const sizes = Array.from({ length: 270 }, (_, i) => (i % 50 === 7 ? 0 : 14 + (i % 20)));
  const { buffer, lengths } = arena(sizes, 496);
  out.txWritten = dev.writeBatch(buffer, 496, lengths, 0, 270);
  out.txErrno = dev.lastErrno;
  await until(() => remote.got.length >= sizes.filter(Boolean).length);
  const want = [];
  sizes.forEach((n, i) => n && want.push(buffer.subarray(i * 496, i * 496 + n)));
  out.txExact = remote.got.length === want.length && want.every((w, i) => w.equals(remote.got[i]));
  // With a maximum payload of 200 (the shim reads it on every call), [100, 250, 100] stops at 250
  // with EMSGSIZE after the first went.
  process.env.RPMSG_SHIM_MAX_PAYLOAD = '200';
  const over = arena([100, 250, 100], 300);
  out.overWritten = dev.writeBatch(over.buffer, 300, over.lengths, 0, 3);
  out.overErrno = dev.lastErrno;
  out.overRest = dev.writeBatch(over.buffer, 300, over.lengths, 2, 3);
  delete process.env.RPMSG_SHIM_MAX_PAYLOAD;
  // 3. EAGAIN: write until the socket is full, then waitWritable -> onWritable once the remote drains.
  remote.m.pauseRead();
  await sleep(20);
  const fill = arena(Array.from({ length: 64 }, () => 150), 496);
  let rounds = 0;
  while (rounds++ < 100 && dev.writeBatch(fill.buffer, 496, fill.lengths, 0, 64) === 64);
  out.fullErrno = dev.lastErrno;
  dev.close();
  remote.m.close();
}

// 4. EAGAIN -> waitWritable -> onWritable; rx batches; oversize rx; hangup as EPIPE.
{
  const [a, b] = seqpacketPair();
  let writable = 0;
  const batches = [];
  const got = [];
  let hangup;
  const dev = new MessageFd(a, {
    slotSize: 200,
    batch: 64,
    batchIoctl: true,
    onReadable(n) {
      batches.push(n);
      for (let i = 0; i < n; i++) got.push(dev.rx.lengths[i] > 200 ? dev.rx.lengths[i] : Buffer.from(dev.rx.buffer.subarray(i * 200, i * 200 + dev.rx.lengths[i])));
    },
    onWritable() {
      writable++;
    },
    onHangup(errno) {
      hangup = errno;
    },
  });
  const remote = remoteOf(b);
  remote.m.pauseRead();
  const fill = arena(Array.from({ length: 64 }, () => 150), 200);
  let rounds = 0;
  while (rounds++ < 100 && dev.writeBatch(fill.buffer, 200, fill.lengths, 0, 64) === 64);
  dev.waitWritable();
  await sleep(50);
  out.writableWhileFull = writable;
  remote.m.resumeRead();
  out.writableAfterDrain = (await until(() => writable === 1)) ? writable : -1;

  // rx: 100 messages sent at once, one of them (index 40) longer than the 200-byte slot.
  dev.pauseRead();
  const sizes = Array.from({ length: 100 }, (_, i) => (i === 40 ? 300 : 20 + i));
  const msgs = arena(sizes, 300);
  out.rxSent = remote.m.writeBatch(msgs.buffer, 300, msgs.lengths, 0, 100);
  dev.resumeRead();
  await until(() => got.length >= 100);
  out.rxBatches = batches;
  out.rxOversize = got[40];
  out.rxExact = sizes.every((n, i) => i === 40 || (Buffer.isBuffer(got[i]) && got[i].equals(msgs.buffer.subarray(i * 300, i * 300 + n))));
  remote.m.close();
  await until(() => hangup !== undefined);
  out.hangupErrno = hangup;
  dev.close();
}

console.log(JSON.stringify(out));
process.exit(0);
