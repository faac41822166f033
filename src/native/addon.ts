// Loads the compiled native binding (build/Release/rpmsg_eth_native.node, built from native/ by
// node-gyp during `npm ci`/`npm rebuild`) and declares its raw shape. Loaded on first use, so
// commands that never touch a TAP or a socket work without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import type { RpmsgEthInfo } from './rpmsg-dev.js';
import type { KernelLinkState } from './rtnetlink.js';

/** How the data plane drives a character-device endpoint (native/dataplane/device_endpoint.h). */
export interface DeviceOptions {
  maxPayload: number;
  /** Move batches with the rpmsg-eth batch ioctls (only for /dev/rpmsg-ethN). */
  batchIoctl: boolean;
  /** How to learn that the device has room again after a busy errno: POLLOUT, or a backing-off timer. */
  room: 'pollout' | 'timer';
  /** write() errnos meaning "no room now". */
  busyErrnos: readonly number[];
  /** write() errnos that lose just that frame (counted as busy); any other error ends the link. */
  dropErrnos: readonly number[];
  /** 'timer' room: first and longest retry delay. */
  retryMinMs: number;
  retryMaxMs: number;
}

export interface NativeDataPlane {
  attachSim(dataFd: number, doorbellFd: number, ringFd: number, maxPayload: number, window: number): void;
  attachDevice(fd: number, options: DeviceOptions): void;
  detach(): number;
  endpointFd(): number;
  readCounters(out: Float64Array): void;
  readFrag(out: Float64Array): void;
  setCapture(buffer: Buffer | null): void;
  pauseTap(paused: boolean): void;
  inject(buffer: Buffer, slotSize: number, lengths: Uint32Array, start: number, end: number): number;
  readonly txIdle: boolean;
  close(): void;
}

export interface NativePacketSocket {
  drops(): number;
  send(buffer: Buffer, slotSize: number, lengths: Uint32Array, start: number, end: number): number;
  close(): void;
}

export interface NativeAddon {
  tapCreate(name: string, netns?: string): number;
  linkSet(name: string, opts: { netns?: string; mtu?: number; mac?: string; up?: boolean }): void;
  tapSetCarrier(fd: number, on: boolean): void;
  seqpacketPair(): [number, number];
  closeFd(fd: number): void;
  withNetns<T>(netns: string, fn: () => T): T;
  DataPlane: new (
    tapFd: number,
    options: { tapSlot: number; frag: boolean; maxFrame?: number; probeResendMs?: number; probeGiveUpMs?: number; reassemblyTimeoutMs?: number },
    callbacks: {
      onLinkLost(errno: number, txInFlight: number): void;
      onModeChange(frag: boolean, mtu: number): void;
      onCapture(bytes: number): void;
      onTapHangup(errno: number): void;
    },
  ) => NativeDataPlane;
  readonly DATA_PLANE_COUNTERS: readonly string[];
  readonly DATA_PLANE_FRAG: readonly string[];
  sharedRingCreate(): number;
  linkState(name: string, netns: string): KernelLinkState;
  ethtoolStats(name: string, netns: string): Record<string, number> | null;
  PacketSocket: new (
    ifname: string,
    netns: string,
    buffer: Buffer,
    callbacks: { onRecords(bytes: number): void; onError(errno: number): void; sendOnly?: boolean },
  ) => NativePacketSocket;
  addressChange(name: string, netns: string, add: boolean, address: string, prefix: number): void;
  sdNotify(socketPath: string, state: string): void;
  limitMallocRetention(): boolean;
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
