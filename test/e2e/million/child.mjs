// Run by million-frames.test.ts as `node --expose-gc child.mjs SEQFLOOD COUNT` (root, in a private
// network namespace): one sim channel (channel 1 of config/lanta.dts: 512 buffers of 512 bytes) with the
// daemon's own bridge and transport in this process, COUNT numbered frames each way at once, as fast
// as the TAPs take them. Prints one JSON object: what each side received, the counters, the JS heap
// before and after, and how often each sender found the ring window full.
import { execFileSync, spawn } from 'node:child_process';
import { pino } from 'pino';
import { ChannelBridge } from '../../../dist/src/bridge/bridge.js';
import { Tap } from '../../../dist/src/iface/tap.js';
import { SimTransport } from '../../../dist/sim/transport.js';

const [flood, countArg] = process.argv.slice(2);
const count = Number(countArg);
const L = `rpe-mf-lnx-${process.pid}`;
const V = `rpe-mf-vx-${process.pid}`;
const ns = (name, ...cmd) => execFileSync('ip', ['netns', 'exec', name, ...cmd], { stdio: 'ignore' });
for (const n of [L, V]) {
  execFileSync('ip', ['netns', 'add', n]);
  ns(n, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
}
const lines = [];
const log = pino({ level: 'info' }, { write: (s) => lines.push(JSON.parse(s)) });
const plan = {
  channel: 1, index: 1, name: 'nokia-test-channel', ifname: 'rpmsg1', ethEndpoint: 0x21, remoteEndpoint: 0x21, bufSize: 512,
  numBufs: 512, maxPayload: 496, mtu: 482, address: '169.254.101.1/24', peerAddress: '169.254.101.2', enabled: true, framing: 'raw',
};

function run(netns, args) {
  const child = spawn('ip', ['netns', 'exec', netns, flood, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  const done = new Promise((resolve) => child.once('exit', () => resolve(JSON.parse(out.trim().split('\n').at(-1)))));
  const listening = new Promise((resolve) => child.stdout.on('data', () => out.includes('listening') && resolve()));
  return { done, listening };
}

let result;
const transport = new SimTransport({ peerNetns: V, log });
const tap = Tap.create('rpmsg1', L);
const bridge = new ChannelBridge(plan, tap, log);
try {
  await transport.open(plan, bridge);
  tap.configure({ mtu: 482, up: true });
  // Receivers first, then both senders at once: Linux -> VxWorks on 0x88b6, VxWorks -> Linux on 0x88b7.
  const atPeer = run(V, ['recv', 'vx1', String(count), '0x88b6']);
  const atLinux = run(L, ['recv', 'rpmsg1', String(count), '0x88b7']);
  await Promise.all([atPeer.listening, atLinux.listening]);
  global.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const senders = [run(L, ['send', 'rpmsg1', String(count), '0x88b6']).done, run(V, ['send', 'vx1', String(count), '0x88b7']).done];
  const [toPeer, toLinux, sentL, sentV] = await Promise.all([atPeer.done, atLinux.done, ...senders]);
  const seconds = (performance.now() - started) / 1000;
  global.gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const counters = bridge.counters;
  const txWaits = bridge.txWaits;
  await transport.close();
  const peer = lines.find((l) => l.msg === 'simulated peer counters')?.counters;
  result = { toPeer, toLinux, sentL, sentV, seconds, heapBefore, heapAfter, counters, txWaits, peer };
} finally {
  bridge.close();
  for (const n of [L, V]) execFileSync('ip', ['netns', 'del', n]);
}
console.log(JSON.stringify(result));
