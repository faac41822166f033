// `rpmsg-eth peer-restart N`: reboot the simulated VxWorks peer of one channel (sim transport only).
import { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import { controlSocketPath } from '../../src/control/protocol.js';
import { UserError } from '../../src/util/errors.js';

function parseInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`"${value}" is not a non-negative integer`, 2);
  return Number(value);
}

export function peerRestartCommand(): Command {
  return new Command('peer-restart')
    .description('Restart the simulated peer of one channel: its link goes down, then comes back (sim transport)')
    .argument('<channel>', 'channel number', parseInteger)
    .option('--down <ms>', 'how long the peer stays down', parseInteger, 1000)
    .option('--control-socket <path>', 'control socket of the daemon')
    .action(async (channel: number, o: { down: number; controlSocket?: string }) => {
      await controlRequest(controlSocketPath(o.controlSocket), { cmd: 'peer-restart', channel, downMs: o.down });
    });
}
