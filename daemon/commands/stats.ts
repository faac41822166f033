// `rpmsg-eth stats`: per-channel counters from the running daemon.
import type { Command } from 'commander';
import type { ChannelCounters } from '../../src/bridge/counters.js';
import { controlRequest } from '../../src/control/client.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';
import { formatDrops, formatTable } from './table.js';

export interface StatsReply {
  channels: Array<ChannelCounters & { channel: number; ifname: string; name: string }>;
}

export function formatStats(stats: StatsReply): string {
  const head = ['IFACE', 'CH', 'LINK', 'TX PKTS', 'TX BYTES', 'RX PKTS', 'RX BYTES', 'DROPS'];
  const rows = stats.channels.map((c) => [
    c.ifname,
    String(c.channel),
    c.link,
    String(c.tx.packets),
    String(c.tx.bytes),
    String(c.rx.packets),
    String(c.rx.bytes),
    formatDrops(c.drops),
  ]);
  return formatTable(head, rows);
}

export function statsCommand(): Command {
  return clientCommand('stats')
    .description('Print per-channel packet, byte and drop counters of the running daemon')
    .option('--json', 'machine-readable output')
    .action(async (o: ClientOptions & { json?: boolean }) => {
      const stats = (await controlRequest(clientSocket(o), { cmd: 'stats' })) as StatsReply;
      process.stdout.write(o.json ? `${JSON.stringify(stats)}\n` : `${formatStats(stats)}\n`);
    });
}
