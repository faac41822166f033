// The data plane's device endpoint in batch-ioctl mode (native/dataplane/device_endpoint.cc), used by the
// kmod transport on /dev/rpmsg-ethN. No rpmsg-eth device exists outside the kernel tests, so a
// preloaded shim (rpmsg-eth-shim.c) answers the INFO and batch ioctls on a seqpacket pair with the
// semantics kmod/rpmsg_eth_api.h documents, and a child node process (batch-ioctl-child.mjs) drives
// the binding through it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../../helpers/tools.js';

const here = resolve('test/unit/transport');
let dir: string;
let result: Record<string, unknown>;
let trace: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rpmsg-shim-'));
  const shim = join(dir, 'shim.so');
  execFileSync(tool('cc'), ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-Ikmod', '-o', shim, join(here, 'rpmsg-eth-shim.c'), '-ldl']);
  const traceFile = join(dir, 'trace');
  const child = spawnSync(process.execPath, [join(here, 'batch-ioctl-child.mjs')], {
    env: { ...process.env, LD_PRELOAD: shim, RPMSG_SHIM_TRACE: traceFile },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
  result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  trace = readFileSync(traceFile, 'utf8').trim().split('\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the device endpoint in batch-ioctl mode over the rpmsg-eth ioctl shim', () => {
  it('reads INFO through the header-defined ioctl', () => {
    expect(result.info).toMatchObject({ apiVersion: 1, maxPayload: 496, name: 'shim' });
  });

  it('writes frames in WRITE_BATCH ioctls, bytes exact, never more than RPMSG_ETH_BATCH_MAX per call', () => {
    expect(result.txExact).toBe(true);
    expect(result.txPackets).toBe(300);
    const writes = trace.filter((l) => l.startsWith('W ')).map((l) => Number(l.split(' ')[1]));
    expect(Math.max(...writes)).toBeLessThanOrEqual(256);
    // Batched: far fewer write ioctls than frames in the whole run.
    expect(writes.length).toBeLessThan(300 + 3 + 2000);
    expect(writes.some((n) => n > 1)).toBe(true);
  });

  it('drops just the frame the module refuses with EMSGSIZE, as oversize, and sends the rest', () => {
    expect(result.overSent).toEqual([100, 100]);
    expect(result.overDrops).toBe(1);
  });

  it('holds frames while the queue is full (EAGAIN), then delivers every one in order after POLLOUT', () => {
    expect(result.heldWhileFull).toBe(true);
    expect(result.fullInOrder).toBe(true);
    expect(result.fullDrops).toBe(0);
  });

  it('receives in READ_BATCH ioctls, exact, and takes a frame longer than the slot out whole, counted oversize', () => {
    expect(result.rxSent).toBe(100);
    expect(result.rxExact).toBe(true);
    expect(result.rxOversize).toBe(1);
    expect(trace.filter((l) => l.startsWith('R ')).length).toBeLessThan(50);
  });

  it('the channel going away (EPIPE from READ_BATCH) is the link lost with EPIPE', () => {
    expect(result.hangupErrno).toBe(32);
  });

  it('refuses batchIoctl on an fd that is not an rpmsg-eth device', () => {
    expect(result.refused).toMatch(/batchIoctl needs an rpmsg-eth device/);
  });
});
