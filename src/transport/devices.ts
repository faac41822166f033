// Finding the stock rpmsg_char devices of a channel through sysfs (layout of Linux 4.11 .. 6.x):
//   /sys/bus/rpmsg/devices/<bus>.<name>.<src>.<dst>   the channel, announced by the remote; attribute `name`
//   /sys/class/rpmsg/rpmsg_ctrlN                      control device; `device` -> the rpmsg device of
//                                                     its bus (<bus>.rpmsg_ctrl.0.0, <bus>.rpmsg_chrdev..)
//   /sys/class/rpmsg/rpmsgM                           endpoint device made by RPMSG_CREATE_EPT_IOCTL;
//                                                     attributes name/src/dst, `device` -> rpmsg_ctrlN
// <bus> is the virtio device carrying the rpmsg instance (virtio0); a board with several remote cores
// has several, each with its own rpmsg_ctrl. Paths are parameters so tests can use a fake tree.
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface SysfsPaths {
  /** Usually /sys. */
  sysRoot: string;
  /** Usually /dev. */
  devDir: string;
}

export const SYSTEM_PATHS: SysfsPaths = { sysRoot: '/sys', devDir: '/dev' };

/** The outcome of looking for a channel's rpmsg_ctrl device. */
export type CtrlLookup =
  | { found: true; ctrl: string; sysDir: string; how: 'channel' | 'only-bus' }
  | { found: false; why: 'no-bus' | 'no-ctrl-for-channel' | 'waiting'; busDir?: string };

function readAttr(dir: string, attr: string): string | undefined {
  try {
    return readFileSync(join(dir, attr), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** An address attribute: rpmsg_char prints them as signed decimal (-1 = RPMSG_ADDR_ANY), the bus as hex. */
function readAddr(dir: string, attr: string): number | undefined {
  const text = readAttr(dir, attr);
  if (text === undefined || !/^(-?\d+|0x[0-9a-f]+)$/i.test(text)) return undefined;
  return Number(text) >>> 0;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The buses (parent directories) of the rpmsg devices that carry channel `name`. */
export function channelBuses(name: string, paths: SysfsPaths = SYSTEM_PATHS): string[] {
  const devices = join(paths.sysRoot, 'bus', 'rpmsg', 'devices');
  const buses = new Set<string>();
  for (const entry of entries(devices)) {
    const dir = join(devices, entry);
    if (readAttr(dir, 'name') !== name) continue;
    const real = realpath(dir);
    if (real) buses.add(dirname(real));
  }
  return [...buses];
}

/** Every rpmsg_ctrl device: its class directory (resolved), the bus it serves and its /dev node. */
export function ctrlDevices(paths: SysfsPaths = SYSTEM_PATHS): { sysDir: string; bus: string; dev: string }[] {
  const cls = join(paths.sysRoot, 'class', 'rpmsg');
  const found: { sysDir: string; bus: string; dev: string }[] = [];
  for (const entry of entries(cls).sort()) {
    if (!/^rpmsg_ctrl\d+$/.test(entry)) continue;
    const sysDir = realpath(join(cls, entry));
    const rpdev = realpath(join(cls, entry, 'device'));
    if (sysDir && rpdev) found.push({ sysDir, bus: dirname(rpdev), dev: join(paths.devDir, entry) });
  }
  return found;
}

/**
 * The /dev/rpmsg_ctrlN of the bus that carries channel `name`. A channel the remote has not announced
 * (or that has gone away) is not on the bus: then the only rpmsg_ctrl, if there is exactly one, serves.
 */
export function findCtrlDevice(name: string, paths: SysfsPaths = SYSTEM_PATHS): CtrlLookup {
  if (!existsSync(join(paths.sysRoot, 'bus', 'rpmsg'))) return { found: false, why: 'no-bus' };
  const ctrls = ctrlDevices(paths);
  const buses = channelBuses(name, paths);
  for (const bus of buses) {
    const ctrl = ctrls.find((c) => c.bus === bus);
    if (ctrl) return { found: true, ctrl: ctrl.dev, sysDir: ctrl.sysDir, how: 'channel' };
  }
  if (buses.length > 0) return { found: false, why: 'no-ctrl-for-channel', busDir: buses[0] };
  const only = ctrls.length === 1 ? ctrls[0] : undefined;
  if (only) return { found: true, ctrl: only.dev, sysDir: only.sysDir, how: 'only-bus' };
  return { found: false, why: 'waiting' };
}

/** The class directory of /dev/rpmsg_ctrlN (for an explicitly given control device). */
export function ctrlSysDir(ctrl: string, paths: SysfsPaths = SYSTEM_PATHS): string | undefined {
  return realpath(join(paths.sysRoot, 'class', 'rpmsg', basename(ctrl)));
}

/**
 * The /dev/rpmsgM endpoint device that the control device at `ctrlSysDir` created with this
 * name/src/dst (RPMSG_CREATE_EPT_IOCTL), if it exists (also one left behind by an earlier run).
 */
export function findEndpointDevice(
  ctrlSysDir: string,
  ept: { name: string; src: number; dst: number },
  paths: SysfsPaths = SYSTEM_PATHS,
): string | undefined {
  const cls = join(paths.sysRoot, 'class', 'rpmsg');
  for (const entry of entries(cls).sort()) {
    if (!/^rpmsg\d+$/.test(entry)) continue;
    const dir = join(cls, entry);
    if (readAttr(dir, 'name') !== ept.name) continue;
    if (readAddr(dir, 'src') !== ept.src || readAddr(dir, 'dst') !== ept.dst) continue;
    const parent = realpath(join(dir, 'device'));
    const real = realpath(dir);
    if (parent === ctrlSysDir || real?.startsWith(ctrlSysDir + '/')) return join(paths.devDir, entry);
  }
  return undefined;
}
