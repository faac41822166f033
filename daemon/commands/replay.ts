// `rpmsg-eth replay`: send the frames of a capture into a channel, to reproduce a problem. This command
// reads the file (it may be anywhere the caller can read, e.g. its own /tmp) and streams the frames to
// the daemon, which never opens it; neither side holds more than a few frames of it.
import { once } from 'node:events';
import type { Command } from 'commander';
import { planReplay, replayFrames, type ReplayPlan } from '../../src/capture/replay-frames.js';
import { encodeFrame } from '../../src/control/records.js';
import { openStream } from '../../src/control/stream-client.js';
import { replayResultSchema } from '../../src/control/protocol.js';
import { UserError } from '../../src/util/errors.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';

function leftOut(plan: ReplayPlan): string {
  const parts = [plan.inbound ? `${plan.inbound} received from the other side` : '', plan.cut ? `${plan.cut} cut short by the capture` : ''];
  const text = parts.filter(Boolean).join(', ');
  return text ? ` (${text}: left out)` : '';
}

export function replayCommand(): Command {
  return clientCommand('replay')
    .description(
      'Send the frames of a capture file into one channel, toward the VxWorks side, as if Linux had sent ' +
        'them: same counters, limits and drops. Reads pcap (either byte order, microsecond or nanosecond ' +
        'timestamps) and pcapng (Wireshark\'s default, and what `capture` writes). The whole file is checked ' +
        'before anything is sent. Frames the capture cut short, and frames it recorded as received from the ' +
        'other side (pcapng direction inbound), are left out.',
    )
    .argument('<file>', 'pcap or pcapng file with Ethernet frames')
    .requiredOption('--channel <n>', 'channel number', (v: string) => {
      if (!/^\d+$/.test(v) || Number(v) > 0xffff) throw new UserError(`--channel: "${v}" is not a channel number`, 2);
      return Number(v);
    })
    .option('--interface <name|index>', 'pcapng with several interfaces: whose frames to send (e.g. rpmsg3, or 0)')
    .addHelpText('after', '\nExamples:\n  rpmsg-eth replay ping.pcap --channel 2\n  rpmsg-eth replay all.pcapng --interface rpmsg3 --channel 3\n')
    .action(async (file: string, o: ClientOptions & { channel: number; interface?: string }) => {
      const plan = await planReplay(file, o.interface);
      const stream = openStream(clientSocket(o), { cmd: 'replay', channel: o.channel });
      await stream.started;
      const { sock } = stream;
      for await (const frame of replayFrames(file, plan)) {
        if (!sock.write(encodeFrame({ channel: o.channel, direction: 'tx', originalLength: frame.length, timestampNs: 0n }, frame))) {
          await Promise.race([once(sock, 'drain'), stream.result]);
        }
      }
      sock.end();
      const r = replayResultSchema.parse(await stream.result);
      process.stdout.write(
        `${r.offered} of ${plan.total} frame(s) sent into channel ${o.channel}${leftOut(plan)}${r.skipped ? `, ${r.skipped} too long for the channel` : ''}\n`,
      );
    });
}
