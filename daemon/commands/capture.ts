// `rpmsg-eth capture`: what crossed the cores, from the daemon's point of view, as pcapng.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CaptureResult } from '../../src/capture/capture-session.js';
import { controlRequest } from '../../src/control/client.js';
import { durationOption } from '../../src/util/duration.js';
import { UserError } from '../../src/util/errors.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';
import { parseChannelList } from './up.js';

function positive(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(Number.isFinite(n) && n > 0)) throw new UserError(`${what}: "${value}" is not a positive number`, 2);
    return n;
  };
}

export function captureCommand(): Command {
  return clientCommand('capture')
    .description(
      'Record the frames the daemon moves into a pcapng file: one interface per channel, each frame with its ' +
        'direction, and frames the daemon dropped with a comment giving the reason. Runs until --count, ' +
        '--duration or Ctrl-C. Read it with tcpdump -r, tshark -r or Wireshark.',
    )
    .requiredOption('-w, --write <file>', 'pcapng file to write')
    .option('--channels <list>', 'only these channels, e.g. 0,3,5-7 (default: all running)', parseChannelList)
    .option('--count <n>', 'stop after N frames (dropped frames included)', positive('--count'))
    .option('-d, --duration <time>', 'stop after this long, e.g. 30s, 5m', durationOption('--duration'))
    .action(async (o: ClientOptions & { write: string; channels?: number[]; count?: number; duration?: number }) => {
      const request = {
        cmd: 'capture' as const,
        file: resolve(o.write),
        channels: o.channels,
        count: o.count,
        durationMs: o.duration,
      };
      // Ctrl-C ends the capture: closing the connection tells the daemon to finish the file.
      const r = (await controlRequest(clientSocket(o), request, 0, ['SIGINT', 'SIGTERM'])) as CaptureResult;
      if (r.ended === 'error') throw new UserError(`capture failed: ${r.error ?? 'unknown error'}`, 1);
      process.stderr.write(`${r.frames} frame(s) written to ${o.write}${r.lost ? `, ${r.lost} lost (output too slow)` : ''}\n`);
    });
}
