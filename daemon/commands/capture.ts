// `rpmsg-eth capture`: what crossed the cores, from the daemon's point of view, as pcapng. The daemon
// streams the frames; this command writes the file (or stdout) itself, as the calling user, where that
// user asked — so `-w /tmp/x.pcapng` lands in the caller's /tmp, and `-w -` feeds `tcpdump -r -`.
import { createWriteStream, existsSync, unlinkSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { PcapngWriter, trimToWholeBlocks } from '../../src/capture/pcapng-writer.js';
import { openStream } from '../../src/control/stream-client.js';
import { captureResultSchema, MAX_CAPTURE_MS, type CaptureRequest } from '../../src/control/protocol.js';
import { durationOption } from '../../src/util/duration.js';
import { UserError } from '../../src/util/errors.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';
import { parseChannelList } from './up.js';

function positiveInteger(what: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!(/^\d+$/.test(value) && n > 0 && n <= max)) throw new UserError(`${what}: "${value}" is not a whole number from 1 to ${max}`, 2);
    return n;
  };
}

/** Opens the output before the capture starts, so an unwritable path fails at once. */
async function openOutput(target: string): Promise<WriteStream> {
  // fd 1 through fs: a stopped reader then blocks a worker thread, never this process's event loop.
  if (target === '-') return createWriteStream('', { fd: 1 });
  const out = createWriteStream(target);
  await new Promise<void>((resolve, reject) => {
    out.once('ready', () => resolve());
    out.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT' ? (existsSync(dirname(target)) ? 'files cannot be created in that folder' : 'no such directory')
        : err.code === 'EACCES' ? 'permission denied'
        : err.message;
      reject(new UserError(`capture: cannot write ${target}: ${why}`, 1));
    });
  });
  return out;
}

export function captureCommand(): Command {
  return clientCommand('capture')
    .description(
      'Record the frames the daemon moves as pcapng: one interface per channel, each frame with its ' +
        'direction, and frames the daemon dropped with a comment giving the reason. Runs until --count, ' +
        '--duration or Ctrl-C. Read it with tcpdump -r, tshark -r or Wireshark; "-w -" streams it to stdout. ' +
        'A reader that falls behind never slows the interfaces: frames it cannot take are not captured, ' +
        'and the file\'s interface statistics and `stats` count them.',
    )
    .requiredOption('-w, --write <file>', 'pcapng file to write, or - for stdout (e.g. | tcpdump -r -)')
    .option('--channels <list>', 'only these channels, e.g. 0,3,5-7 (default: all running)', parseChannelList)
    .option('--count <n>', 'stop after N frames (frames not captured included)', positiveInteger('--count', 2 ** 32))
    .option('-d, --duration <time>', 'stop after this long, e.g. 30s, 5m', durationOption('--duration', { maxMs: MAX_CAPTURE_MS }))
    .addHelpText('after', '\nExamples:\n  rpmsg-eth capture -w /tmp/ch3.pcapng --channels 3\n  rpmsg-eth capture -w - --count 6 | tcpdump -nr -\n')
    .action(async (o: ClientOptions & { write: string; channels?: number[]; count?: number; duration?: number }) => {
      const out = await openOutput(o.write);
      const writer = new PcapngWriter(out);
      const request: CaptureRequest = {
        cmd: 'capture',
        ...(o.channels ? { channels: o.channels } : {}),
        ...(o.count ? { count: o.count } : {}),
        ...(o.duration ? { durationMs: o.duration } : {}),
      };
      const ifaceOf = new Map<number, number>();
      let waitingForDrain = false;
      let stopping = false;
      const stream = openStream(clientSocket(o), request, {
        // Frames may follow the start in the same read: declare the interfaces before they arrive.
        start: (m) => {
          for (const i of m.interfaces ?? []) ifaceOf.set(i.channel, writer.addInterface(i.ifname, i.name));
        },
        frame: (f) => {
          const iface = ifaceOf.get(f.channel);
          if (iface === undefined) throw new Error(`a frame of channel ${f.channel}, which the capture did not announce`);
          const more = writer.writeFrame(iface, f.direction, f.data, {
            dropReason: f.dropReason,
            originalLength: f.originalLength,
            timestampNs: f.timestampNs,
          });
          // Our output is behind: stop reading the daemon; its per-client limit decides what is not captured.
          if (!more && !waitingForDrain && !stopping) {
            waitingForDrain = true;
            stream.sock.pause();
            out.once('drain', () => {
              waitingForDrain = false;
              stream.sock.resume();
            });
          }
        },
      });
      // Ctrl-C, or the output failing (disk full, reader gone): end our side; the daemon stops the capture.
      // Reading resumes too: the daemon's result must still be read, and a socket that is paused and
      // half-closed keeps no handle active, so Node would exit 0 before it arrives (a full disk never drains).
      const stop = () => {
        stopping = true;
        stream.sock.end();
        stream.sock.resume();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      out.once('error', stop);
      try {
        try {
          await stream.started;
        } catch (err) {
          // Nothing was captured: leave no empty file behind.
          out.destroy();
          if (o.write !== '-') unlinkSync(o.write);
          throw err;
        }
        const result = captureResultSchema.parse(await stream.result);
        const missed = [...ifaceOf].map(([channel]) => result.notCaptured[String(channel)] ?? 0);
        try {
          await writer.close(missed);
        } catch (err) {
          // A full disk ends the capture with what was written whole: a file every reader takes.
          if (o.write === '-') throw err;
          const kept = trimToWholeBlocks(o.write);
          throw new UserError(`${(err as Error).message}; ${o.write} keeps the ${kept} bytes of whole blocks written before it`, 1);
        }
        const total = missed.reduce((a, b) => a + b, 0);
        process.stderr.write(
          `${result.frames} frame(s) written to ${o.write}${total ? `; ${total} not captured: the reader fell behind` : ''}\n`,
        );
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
