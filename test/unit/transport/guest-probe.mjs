// The kmod and rpmsg-char transports on the real devices, inside the kernel tests' QEMU guest
// (test/kmod), below the daemon: channel 0 of the remote-core emulator (rpmsg_vx_emu) and its vx0.
//   node test/unit/transport/guest-probe.mjs MODE      (after `npm run build`; as root in the guest)
//   kmod            rpmsg_eth and the emulator loaded: frames both ways (exact), oversize counted,
//                   a 20k-frame burst (busy/onWritable via POLLOUT), emulator reloaded: down, up
//   kmod-plain      the same with one read()/write() per frame instead of the batch ioctls
//   rpmsg-char      the emulator loaded, rpmsg_eth not: the same through rpmsg_char (busy via the
//                   retry timer), and close() destroys the endpoint
//   kmod-wait       rpmsg_eth loaded, emulator not: starts link-down, up when the emulator loads;
//                   rpmsg_eth unbound/removed under the open device: down; reloaded: up
//   rpmsg-char-wait neither loaded: starts link-down, up when the emulator loads
// Environment: EMU_CHANNELS, KMOD_EMU, KMOD_RPMSG_ETH as in test/kmod/guest/lib.sh; EMU_PARAMS extra
// emulator parameters for reloads. Prints "probe: PASS MODE" and exits 0, or "probe: FAIL ..." and 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { pino } from 'pino';
const root = new URL('../../../', import.meta.url).pathname;
const { KmodTransport } = await import(root + 'dist/src/transport/kmod.js');
const { RpmsgCharTransport } = await import(root + 'dist/src/transport/rpmsg-char.js');

const mode = process.argv[2];
const log = pino({ level: 'info' }, pino.destination(2));
const say = (...a) => console.log('probe:', ...a);
const fail = (m) => { console.log('probe: FAIL', m); process.exit(1); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) fail('timeout: ' + what); await sleep(10); }
}
const stat = (ifc, s) => Number(readFileSync(`/sys/class/net/${ifc}/statistics/${s}`, 'utf8'));

const [chanName, chanAddr] = (process.env.EMU_CHANNELS ?? 'nokia-fsproxy-channel:0x10').split(',')[0].split(':');
const plan = { channel: 0, index: 0, name: chanName, ifname: 'rpmsg0', ethEndpoint: Number(chanAddr), remoteEndpoint: Number(chanAddr),
  bufSize: 512, numBufs: 512, maxPayload: 496, mtu: 482, address: '10.0.0.1/24', peerAddress: '10.0.0.2', enabled: true, framing: 'raw' };

const events = {
  messages: [], drops: [], changes: [], writable: 0, hook: undefined,
  onMessages(b) { for (let i = 0; i < b.count; i++) if (b.lengths[i]) this.messages.push(Buffer.from(b.buffer.subarray(i * b.slotSize, i * b.slotSize + b.lengths[i]))); },
  onWritable() { this.writable++; this.hook?.(); },
  onLinkChange(up) { this.changes.push(up); say('link', up ? 'up' : 'down'); },
  onDrop(reason, direction, bytes) { this.drops.push({ reason, direction, bytes }); },
};

function frame(len, seq) {
  const f = Buffer.alloc(len);
  f.fill(0xff, 0, 6); Buffer.from([2, 0, 0, 0, 0, 1]).copy(f, 6); f.writeUInt16BE(0x88b5, 12);
  for (let j = 14; j < len; j++) f[j] = (seq + j) & 0xff;
  f.writeUInt32BE(seq, 14);
  return f;
}
function batch(frames, slot = 496) {
  const buffer = Buffer.alloc(frames.length * slot); const lengths = new Uint32Array(frames.length);
  frames.forEach((f, i) => { f.copy(buffer, i * slot); lengths[i] = f.length; });
  return { buffer, slotSize: slot, lengths, count: frames.length };
}
/** Sends all frames honouring busy/onWritable, like the bridge does. */
function sendAll(link, frames) {
  const b = batch(frames);
  return new Promise((resolve) => {
    let at = 0, busies = 0;
    const pump = () => {
      const r = link.send(b, at); at += r.consumed;
      if (r.busy) { busies++; return; }
      if (at >= b.count) { events.hook = undefined; resolve(busies); }
    };
    events.hook = pump; pump();
  });
}

if (mode === 'kmod-wait' || mode === 'rpmsg-char-wait') {
  // started before the remote core: link down, then up once the channel appears
  const t = mode === 'kmod-wait' ? new KmodTransport({ log }) : new RpmsgCharTransport({ log });
  const l = await t.open(plan, events);
  if (l.up) fail('up without a remote');
  say('waiting; maxPayload', l.maxPayload);
  await sleep(700);
  execFileSync('sh', ['-c', `insmod ${process.env.KMOD_EMU} channels="${process.env.EMU_CHANNELS}"`]);
  await until('link up once the remote is there', () => l.up, 8000);
  execFileSync('ip', ['link', 'set', 'vx0', 'mtu', '1500', 'up']);
  const rx = stat('vx0', 'rx_packets');
  await sendAll(l, Array.from({ length: 20 }, (_, i) => frame(100, i)));
  await until('20 frames', () => stat('vx0', 'rx_packets') - rx >= 20);
  if (mode === 'kmod-wait') {
    // the module itself goes away under the open device, and comes back
    const unbind = spawnSync('rmmod', ['rpmsg_eth']);
    say('rmmod rpmsg_eth with the device open:', unbind.status === 0 ? 'ok' : String(unbind.stderr).trim());
    if (unbind.status !== 0) execFileSync('sh', ['-c', 'for d in /sys/bus/rpmsg/drivers/rpmsg_eth/virtio*; do [ -e "$d" ] && basename "$d" > /sys/bus/rpmsg/drivers/rpmsg_eth/unbind; done']);
    await until('link down after the module went', () => !l.up, 5000);
    if (unbind.status !== 0) { await sleep(300); execFileSync('sh', ['-c', 'until rmmod rpmsg_eth 2>/dev/null; do sleep 0.1; done']); }
    execFileSync('sh', ['-c', `insmod ${process.env.KMOD_RPMSG_ETH} channels="${process.env.EMU_CHANNELS}"`]);
    await until('link up after the module is back', () => l.up, 8000);
  }
  say('link changes', events.changes.join(','));
  await t.close();
  say('PASS', mode);
  process.exit(0);
}
const ctor = mode === 'rpmsg-char' ? RpmsgCharTransport : KmodTransport;
const transport = new ctor({ log, batchIoctl: mode !== 'kmod-plain' });
const link = await transport.open(plan, events);
if (!link.up) fail('link not up at start');
say('up; maxPayload', link.maxPayload);
if (link.maxPayload !== 496) fail('maxPayload ' + link.maxPayload);
execFileSync('ip', ['link', 'set', 'vx0', 'mtu', '1500', 'up']);
try { execFileSync('sh', ['-c', 'echo 1 > /proc/sys/net/ipv6/conf/vx0/disable_ipv6']); } catch {}

// Linux -> remote, with one oversize frame dropped and counted
let rx0 = stat('vx0', 'rx_packets');
const out = Array.from({ length: 300 }, (_, i) => frame(60 + (i % 437), i));
out.splice(100, 0, frame(497, 9999));
const busies = await sendAll(link, out);
await until('vx0 to count 300 frames', () => stat('vx0', 'rx_packets') - rx0 >= 300);
await sleep(200);
say('sent 300 (+1 oversize), vx0 rx_packets +', stat('vx0', 'rx_packets') - rx0, 'busy', busies, 'drops', JSON.stringify(events.drops));
if (stat('vx0', 'rx_packets') - rx0 !== 300) fail('vx0 got a different count');
if (events.drops.length !== 1 || events.drops[0].reason !== 'oversize') fail('oversize not counted');

// remote -> Linux: python injects frames on vx0
const py = `
import socket,struct,sys
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW); s.bind(('vx0',0))
for i in range(200):
    n=60+(i*7)%437
    f=b'\\xff'*6+bytes([2,0,0,0,0,2])+struct.pack('>H',0x88b5)+struct.pack('>I',i)+bytes(((i+j)&0xff) for j in range(18,n))
    s.send(f)
`;
const r = spawnSync('python3', ['-c', py]); if (r.status !== 0) fail('python: ' + r.stderr);
await until('200 frames from vx0', () => events.messages.filter((m) => m.readUInt16BE(12) === 0x88b5).length >= 200);
const got = events.messages.filter((m) => m.readUInt16BE(12) === 0x88b5);
for (let i = 0; i < 200; i++) {
  const m = got[i]; const n = 60 + (i * 7) % 437;
  if (m.length !== n || m.readUInt32BE(14) !== i || m[n - 1] !== ((i + n - 1) & 0xff)) fail(`rx frame ${i} wrong (len ${m.length})`);
}
say('received 200 frames from vx0, exact');

// throughput / back-pressure: many frames as fast as allowed
for (const size of [496]) {
  const n = 20000; rx0 = stat('vx0', 'rx_packets');
  const frames = Array.from({ length: 256 }, (_, i) => frame(size, i));
  const t0 = performance.now(), c0 = process.cpuUsage();
  let total = 0, busy = 0, w0 = events.writable;
  while (total < n) { busy += await sendAll(link, frames); total += frames.length; }
  const ms = performance.now() - t0, cpu = process.cpuUsage(c0);
  await until('vx0 to count the burst', () => stat('vx0', 'rx_packets') - rx0 >= total * 0.5, 10000);
  await sleep(500);
  say(`burst ${mode}: ${total} x ${size} B in ${ms.toFixed(0)} ms = ${(total / ms * 1000).toFixed(0)} frames/s; cpu user ${(cpu.user/1000).toFixed(0)} ms sys ${(cpu.system/1000).toFixed(0)} ms; busy ${busy}, onWritable ${events.writable - w0}; vx0 rx +${stat('vx0', 'rx_packets') - rx0}`);
}

// the remote goes away and comes back
const emuParams = process.env.EMU_PARAMS ?? '';
execFileSync('rmmod', ['rpmsg_vx_emu']);
await until('link down after rmmod', () => events.changes.at(-1) === false, 5000);
execFileSync('sh', ['-c', `insmod ${process.env.KMOD_EMU} channels="${process.env.EMU_CHANNELS}" ${emuParams}`]);
await until('link up after insmod', () => events.changes.at(-1) === true, 8000);
execFileSync('ip', ['link', 'set', 'vx0', 'mtu', '1500', 'up']);
rx0 = stat('vx0', 'rx_packets');
await sendAll(link, out.slice(0, 50));
await until('frames after reconnect', () => stat('vx0', 'rx_packets') - rx0 >= 50);
say('after remote restart: link', events.changes.join(','), '50 frames through');

let epts = [];
if (mode === 'rpmsg-char') epts = readdirSync('/sys/class/rpmsg').filter((e) => /^rpmsg\d+$/.test(e));
await transport.close();
if (mode === 'rpmsg-char') {
  const left = readdirSync('/sys/class/rpmsg').filter((e) => /^rpmsg\d+$/.test(e));
  say('endpoints before close', epts.join(' '), 'after', left.join(' ') || '(none)');
  if (left.length >= epts.length) fail('close did not destroy the endpoint');
}
say('PASS', mode);
