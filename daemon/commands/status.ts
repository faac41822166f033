// `rpmsg-eth status`: what each interface is doing, at a glance.
import type { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import type { ChannelStatus } from '../../src/control/protocol.js';
import { parseDuration } from '../../src/util/duration.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';
import { formatDrops, formatTable } from './table.js';

/** Traffic per second each way, in the units of `ip -s link` and iftop: packets and bits. */
export interface StatusRates {
  txPacketsPerSecond: number;
  txBitsPerSecond: number;
  rxPacketsPerSecond: number;
  rxBitsPerSecond: number;
}

export type StatusLine = Omit<ChannelStatus, 'rates'> & { rates: StatusRates };

export function statusLine(s: ChannelStatus): StatusLine {
  const r = s.rates;
  return {
    ...s,
    rates: {
      txPacketsPerSecond: r.txPps,
      txBitsPerSecond: r.txBps * 8,
      rxPacketsPerSecond: r.rxPps,
      rxBitsPerSecond: r.rxBps * 8,
    },
  };
}

/** 2500000 -> "2.5M", with k/M/G steps of 1000. */
function si(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

function peer(s: StatusLine): string {
  if (!s.peer || s.peer.reachable === null) return '-';
  if (!s.peer.reachable) return 'unreachable';
  return s.peer.rttMs === null ? 'ok' : `ok ${s.peer.rttMs.toFixed(2)}ms`;
}

export function formatStatus(lines: StatusLine[]): string {
  const head = ['IFACE', 'CHANNEL', 'LINK', 'CARRIER', 'MTU', 'ADDRESS', 'PEER', 'PEER STATE', 'TX', 'RX', 'DROPS'];
  const rows = lines.map((s) => [
    s.ifname,
    `${s.channel} ${s.name}`,
    s.adminUp === false ? 'admin-down' : s.operstate,
    s.carrier ? 'yes' : 'no',
    String(s.mtu),
    s.address,
    s.peerAddress,
    peer(s),
    `${si(s.rates.txBitsPerSecond)}bit/s ${si(s.rates.txPacketsPerSecond)}pkt/s`,
    `${si(s.rates.rxBitsPerSecond)}bit/s ${si(s.rates.rxPacketsPerSecond)}pkt/s`,
    formatDrops(s.drops),
  ]);
  // A channel that is not running says why, under the table: "rpmsg2: down: rpmsg2 was deleted".
  const down = lines.filter((s) => s.down).map((s) => `${s.ifname}: down: ${s.down}`);
  return [formatTable(head, rows), ...down].join('\n');
}

export function statusCommand(): Command {
  return clientCommand('status')
    .description(
      'Show each interface: LINK (operational state) and CARRIER as the kernel reports them, MTU, addresses, ' +
        'peer reachability, traffic in bit/s and packets/s each way, drops. In --json, `link` is the ' +
        "channel's link to the peer and `operstate` the interface's.",
    )
    .option('--json', 'machine-readable output')
    .option('--watch [interval]', 'refresh in place this often (default 1s; e.g. 500ms, 2s) until Ctrl-C')
    .action(async (o: ClientOptions & { json?: boolean; watch?: boolean | string }) => {
      const intervalMs = typeof o.watch === 'string' ? parseDuration('--watch', o.watch) : 1000;
      const path = clientSocket(o);
      const fetch = async () =>
        (await controlRequest(path, { cmd: 'status' })).channels.map(statusLine);
      const show = (channels: StatusLine[]) => (o.json ? `${JSON.stringify({ channels })}\n` : `${formatStatus(channels)}\n`);
      if (o.watch === undefined) return void process.stdout.write(show(await fetch()));
      for (;;) {
        const text = show(await fetch());
        // Home the cursor and clear below: the table refreshes in place instead of scrolling.
        process.stdout.write(process.stdout.isTTY && !o.json ? `\x1b[H\x1b[J${new Date().toISOString()}\n${text}` : text);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    });
}
