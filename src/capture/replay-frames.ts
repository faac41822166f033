// What `rpmsg-eth replay` sends from a capture file. A first pass reads the whole file — so a truncated
// file, a non-Ethernet interface or a file with nothing to send is refused before a single frame goes
// out — and picks the interface; a second pass hands out the frames, one at a time. Frames that would
// not reproduce what Linux sent are left out and counted: those received from the other side (pcapng
// direction "inbound", e.g. `capture`'s rx frames) and those the capture cut short.
import { UserError } from '../util/errors.js';
import { MAX_FRAME } from '../control/records.js';
import { CaptureFileError, describeLinkType, LINKTYPE_ETHERNET, readCaptureFile } from './capture-file.js';

export interface ReplayInterface {
  index: number;
  name?: string;
  linkType: number;
}

export interface ReplayPlan {
  interface: ReplayInterface;
  /** Frames of the interface in the file. */
  total: number;
  /** Frames to send. */
  frames: number;
  /** Left out: received from the other side (pcapng inbound). */
  inbound: number;
  /** Left out: cut short by the capture's snap length, or longer than a frame can be. */
  cut: number;
}

type Verdict = 'send' | 'inbound' | 'cut';

function verdict(f: { data: Buffer; originalLength: number; direction?: 'rx' | 'tx' }): Verdict {
  if (f.direction === 'rx') return 'inbound';
  if (f.data.length < f.originalLength || f.data.length > MAX_FRAME) return 'cut';
  return 'send';
}

function replayError(path: string, why: string): UserError {
  return new UserError(`replay: ${path}: ${why}`, 1);
}

function label(i: ReplayInterface): string {
  return i.name ? `${i.index} (${i.name})` : String(i.index);
}

/**
 * Reads all of `path` and decides what replay sends: the interface named or numbered by `choice`, or the
 * only one. Throws a UserError (exit 1) with the reason when the file cannot be replayed.
 */
export async function planReplay(path: string, choice?: string): Promise<ReplayPlan> {
  const interfaces: ReplayInterface[] = [];
  const counts = new Map<number, Record<Verdict, number>>();
  try {
    for await (const ev of readCaptureFile(path)) {
      if (ev.kind === 'interface') {
        interfaces.push({ index: ev.index, linkType: ev.linkType, ...(ev.name ? { name: ev.name } : {}) });
        counts.set(ev.index, { send: 0, inbound: 0, cut: 0 });
      } else {
        counts.get(ev.interface)![verdict(ev)]++;
      }
    }
  } catch (err) {
    if (err instanceof CaptureFileError) throw replayError(path, err.message);
    throw err;
  }
  if (interfaces.length === 0) throw replayError(path, 'the file declares no interface and holds no frames');
  let chosen: ReplayInterface | undefined;
  if (choice !== undefined) {
    chosen = /^\d+$/.test(choice) ? interfaces[Number(choice)] : interfaces.find((i) => i.name === choice);
    if (!chosen) throw replayError(path, `no interface ${choice} (the file has ${interfaces.map(label).join(', ')})`);
  } else if (interfaces.length === 1) {
    chosen = interfaces[0]!;
  } else {
    throw replayError(path, `the file has ${interfaces.length} interfaces, ${interfaces.map(label).join(', ')}: choose one with --interface NAME|INDEX`);
  }
  if (chosen.linkType !== LINKTYPE_ETHERNET) {
    throw replayError(path, `interface ${label(chosen)} has ${describeLinkType(chosen.linkType)}, not Ethernet (1): replay sends Ethernet frames`);
  }
  const c = counts.get(chosen.index)!;
  const plan: ReplayPlan = { interface: chosen, total: c.send + c.inbound + c.cut, frames: c.send, inbound: c.inbound, cut: c.cut };
  if (plan.frames === 0) {
    const left = [c.inbound ? `${c.inbound} received from the other side` : '', c.cut ? `${c.cut} cut short by the capture` : ''].filter(Boolean);
    throw replayError(path, `no frames to send on interface ${label(chosen)}${left.length ? ` (${left.join(', ')})` : ''}`);
  }
  return plan;
}

/** The frames `plan` sends, read again from `path`; a file that changed since is an error. */
export async function* replayFrames(path: string, plan: ReplayPlan): AsyncGenerator<Buffer> {
  let sent = 0;
  try {
    for await (const ev of readCaptureFile(path)) {
      if (ev.kind === 'frame' && ev.interface === plan.interface.index && verdict(ev) === 'send') {
        if (++sent > plan.frames) break;
        yield ev.data;
      }
    }
  } catch (err) {
    if (err instanceof CaptureFileError) throw replayError(path, `${err.message} (the file changed while it was replayed?)`);
    throw err;
  }
  if (sent !== plan.frames) throw replayError(path, `the file changed while it was replayed (${sent} frames instead of ${plan.frames})`);
}
