// `rpmsg-eth peer-restart N`: reboot the simulated VxWorks peer of one channel (sim transport only).
import type { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import { durationOption } from '../../src/util/duration.js';
import { UserError } from '../../src/util/errors.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';

function parseInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`"${value}" is not a non-negative integer`, 2);
  return Number(value);
}

export function peerRestartCommand(): Command {
  return clientCommand('peer-restart')
    .description('Restart the simulated peer of one channel: its link goes down, then comes back (sim transport)')
    .argument('<channel>', 'channel number', parseInteger)
    .option('--down <time>', 'how long the peer stays down, e.g. 500ms, 4s (default 1s)', durationOption('--down', { maxMs: 3_600_000 }), 1000)
    .action(async (channel: number, o: ClientOptions & { down: number }) => {
      await controlRequest(clientSocket(o), { cmd: 'peer-restart', channel, downMs: o.down });
    });
}
