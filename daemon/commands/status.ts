// `rpmsg-eth status`: what each interface is doing, at a glance.
import { Command } from 'commander';
import type { ChannelCounters } from '../../src/bridge/counters.js';
import type { Rates } from '../../src/bridge/counters.js';
import { controlRequest } from '../../src/control/client.js';
import { controlSocketPath } from '../../src/control/protocol.js';
import { formatDrops, formatTable } from './table.js';
import { UserError } from '../../src/util/errors.js';

export interface ChannelStatus extends ChannelCounters {
  channel: number;
  ifname: string;
  name: string;
  mtu: number;
  address: string;
  peerAddress: string;
  carrier: boolean;
  rates?: Rates;
  peer?: { reachable: boolean | null; rttMs: number | null };
}

function rate(n: number | undefined, unit: string): string {
  const v = n ?? 0;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M${unit}`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k${unit}`;
  return `${v.toFixed(0)}${unit}`;
}

function peer(s: ChannelStatus): string {
  if (!s.peer || s.peer.reachable === null) return '-';
  if (!s.peer.reachable) return 'unreachable';
  return s.peer.rttMs === null ? 'ok' : `ok ${s.peer.rttMs.toFixed(2)}ms`;
}

export function formatStatus(channels: ChannelStatus[]): string {
  const head = ['IFACE', 'CHANNEL', 'LINK', 'CARRIER', 'MTU', 'ADDRESS', 'PEER', 'PEER STATE', 'TX', 'RX', 'DROPS'];
  const rows = channels.map((s) => [
    s.ifname,
    `${s.channel} ${s.name}`,
    s.link,
    s.carrier ? 'yes' : 'no',
    String(s.mtu),
    s.address,
    s.peerAddress,
    peer(s),
    `${rate(s.rates?.txPps, 'p/s')} ${rate(s.rates?.txBps, 'B/s')}`,
    `${rate(s.rates?.rxPps, 'p/s')} ${rate(s.rates?.rxBps, 'B/s')}`,
    formatDrops(s.drops),
  ]);
  return formatTable(head, rows);
}

export function statusCommand(): Command {
  return new Command('status')
    .description('Show each interface: link and carrier, MTU, addresses, peer reachability, traffic rates, drops')
    .option('--json', 'machine-readable output')
    .option('-w, --watch [seconds]', 'refresh in place every few seconds (default 1) until Ctrl-C')
    .option('--control-socket <path>', 'control socket of the daemon')
    .action(async (o: { json?: boolean; watch?: boolean | string; controlSocket?: string }) => {
      const path = controlSocketPath(o.controlSocket);
      const fetch = async () => ((await controlRequest(path, { cmd: 'status' })) as { channels: ChannelStatus[] }).channels;
      const show = (channels: ChannelStatus[]) =>
        o.json ? `${JSON.stringify({ channels })}\n` : `${formatStatus(channels)}\n`;
      if (o.watch === undefined) return void process.stdout.write(show(await fetch()));
      const seconds = o.watch === true ? 1 : Number(o.watch);
      if (!(seconds > 0)) throw new UserError(`--watch: "${String(o.watch)}" is not a number of seconds`, 2);
      for (;;) {
        const text = show(await fetch());
        // Home the cursor and clear below: the table refreshes in place instead of scrolling.
        process.stdout.write(process.stdout.isTTY && !o.json ? `\x1b[H\x1b[J${new Date().toISOString()}\n${text}` : text);
        await new Promise((r) => setTimeout(r, seconds * 1000));
      }
    });
}
