// Loads the compiled native binding (build/Release/rpmsg_eth_native.node, built from native/ by
// node-gyp during `npm ci`/`npm rebuild`) and declares its raw shape. Loaded on first use, so
// commands that never touch a TAP or a socket work without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import type { RpmsgEthInfo } from './rpmsg-dev.js';

export interface NativeMessageFd {
  readonly fd: number;
  readonly lastErrno: number;
  writeBatch(buffer: Buffer, slotSize: number, lengths: Uint32Array, start: number, end: number): number;
  pauseRead(): void;
  resumeRead(): void;
  waitWritable(): void;
  close(): void;
}

export interface NativeFdWatch {
  close(): void;
}

export interface NativeAddon {
  tapCreate(name: string, netns?: string): number;
  linkSet(name: string, opts: { netns?: string; mtu?: number; mac?: string; up?: boolean }): void;
  tapSetCarrier(fd: number, on: boolean): void;
  seqpacketPair(): [number, number];
  seqpacketListen(path: string): number;
  seqpacketAccept(fd: number): number | null;
  seqpacketConnect(path: string): number;
  closeFd(fd: number): void;
  withNetns<T>(netns: string, fn: () => T): T;
  FdWatch: new (fd: number, onReadable: () => void) => NativeFdWatch;
  MessageFd: new (
    fd: number,
    slotSize: number,
    batch: number,
    rxArena: Buffer,
    rxLengths: Uint32Array,
    onReadable: (count: number) => void,
    onWritable: () => void,
    onHangup: (errno: number) => void,
    batchIoctl?: boolean,
  ) => NativeMessageFd;
  linkState(name: string, netns: string): { operstate: string; carrier: boolean; adminUp: boolean };
  sdNotify(socketPath: string, state: string): void;
  rpmsgEthInfo(fd: number): RpmsgEthInfo;
  rpmsgCreateEndpoint(ctrlFd: number, name: string, src: number, dst: number): void;
  rpmsgDestroyEndpoint(fd: number): void;
  readonly RPMSG_ETH_API_VERSION: number;
  readonly RPMSG_ETH_BATCH_MAX: number;
}

const ADDON_FILE = join('build', 'Release', 'rpmsg_eth_native.node');

/** The package root: the nearest folder above this file holding binding.gyp (src/ or dist/src/). */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'binding.gyp')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new UserError(`rpmsg-eth: cannot find the package root above ${here}`);
  }
}

let loaded: NativeAddon | undefined;

export function addon(): NativeAddon {
  if (loaded) return loaded;
  const root = packageRoot();
  const file = join(root, ADDON_FILE);
  if (!existsSync(file)) {
    throw new UserError(
      `rpmsg-eth: the native binding ${file} is not built; run \`npm rebuild\` in ${root} ` +
        '(needs python3, make and a C++ compiler)',
    );
  }
  loaded = createRequire(import.meta.url)(file) as NativeAddon;
  return loaded;
}
