// `rpmsg-eth replay`: send the frames of a capture into a channel, to reproduce a problem.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import { UserError } from '../../src/util/errors.js';
import type { ReplayResult } from '../capture.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';

export function replayCommand(): Command {
  return clientCommand('replay')
    .description(
      'Send the frames of a classic pcap file (tcpdump -w) into one channel, toward the VxWorks side, as if ' +
        'Linux had sent them: same counters, limits and drops. Frames the capture cut short are skipped.',
    )
    .argument('<file>', 'classic pcap file (pcapng: convert with editcap -F pcap)')
    .requiredOption('--channel <n>', 'channel number', (v: string) => {
      if (!/^\d+$/.test(v)) throw new UserError(`--channel: "${v}" is not a channel number`, 2);
      return Number(v);
    })
    .action(async (file: string, o: ClientOptions & { channel: number }) => {
      const req = { cmd: 'replay' as const, file: resolve(file), channel: o.channel };
      const r = (await controlRequest(clientSocket(o), req, 120_000)) as ReplayResult;
      process.stdout.write(`${r.offered} of ${r.frames} frame(s) sent into channel ${o.channel}${r.skipped ? `, ${r.skipped} skipped` : ''}\n`);
    });
}
