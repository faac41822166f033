// MessageFd's batchIoctl mode (native/rpmsg_dev.cc), used by the kmod transport on /dev/rpmsg-ethN.
// No rpmsg-eth device exists outside the kernel tests, so a preloaded shim (rpmsg-eth-shim.c) answers
// the INFO and batch ioctls on a seqpacket pair with the semantics kmod/rpmsg_eth_api.h documents,
// and a child node process (batch-ioctl-child.mjs) drives the binding through it.
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

describe('MessageFd batchIoctl over the rpmsg-eth ioctl shim', () => {
  it('reads INFO through the header-defined ioctl', () => {
    expect(result.info).toMatchObject({ apiVersion: 1, maxPayload: 496, name: 'shim' });
  });

  it('writes a run in ioctls of at most RPMSG_ETH_BATCH_MAX frames, skipping dropped ones, bytes exact', () => {
    expect(result.txWritten).toBe(270);
    expect(result.txErrno).toBe(0);
    expect(result.txExact).toBe(true);
    // 270 messages, 6 of them length 0: 264 frames = one ioctl of 256 and one of 8.
    expect(trace.slice(0, 2)).toEqual(['W 256 256', 'W 8 8']);
  });

  it('stops at a frame the module refuses (EMSGSIZE) after the ones before it, and goes on from there', () => {
    expect(result.overWritten).toBe(1);
    expect(result.overErrno).toBe(90); // EMSGSIZE
    expect(result.overRest).toBe(1);
  });

  it('reports EAGAIN when the queue is full, and onWritable only once there is room again', () => {
    expect(result.fullErrno).toBe(11); // EAGAIN
    expect(result.writableWhileFull).toBe(0);
    expect(result.writableAfterDrain).toBe(1);
  });

  it('receives in batches, exact, and takes a frame longer than the slot out whole, reported oversize', () => {
    expect(result.rxSent).toBe(100);
    expect(result.rxBatches).toEqual([64, 36]);
    expect(result.rxExact).toBe(true);
    expect(result.rxOversize).toBe(300);
    // Far fewer read ioctls than frames.
    expect(trace.filter((l) => l.startsWith('R ')).length).toBeLessThan(10);
  });

  it('the channel going away (EPIPE from READ_BATCH) is a hangup with EPIPE', () => {
    expect(result.hangupErrno).toBe(32);
  });
});
