// `rpmsg-eth stats`: per-channel counters from the running daemon.
import type { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import type { StatusReply } from '../../src/control/protocol.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';
import { formatDrops, formatTable } from './table.js';

/** The columns `stats` prints of each channel. */
type StatsLine = Pick<StatusReply['channels'][number], 'ifname' | 'channel' | 'link' | 'tx' | 'rx' | 'drops' | 'notCaptured'>;

export function formatStats(stats: { channels: StatsLine[] }): string {
  const head = ['IFACE', 'CH', 'LINK', 'TX PKTS', 'TX BYTES', 'RX PKTS', 'RX BYTES', 'DROPS'];
  const rows = stats.channels.map((c) => [
    c.ifname,
    String(c.channel),
    c.link,
    String(c.tx.packets),
    String(c.tx.bytes),
    String(c.rx.packets),
    String(c.rx.bytes),
    `${formatDrops(c.drops)}${c.notCaptured ? ` (capture missed ${c.notCaptured})` : ''}`,
  ]);
  return formatTable(head, rows);
}

export function statsCommand(): Command {
  return clientCommand('stats')
    .description('Print per-channel packet, byte and drop counters of the running daemon')
    .option('--json', 'machine-readable output')
    .action(async (o: ClientOptions & { json?: boolean }) => {
      const stats = await controlRequest(clientSocket(o), { cmd: 'stats' });
      process.stdout.write(o.json ? `${JSON.stringify(stats)}\n` : `${formatStats(stats)}\n`);
    });
}
