// The device-specific steps: opening /dev/rpmsg-ethN (kmod) and finding/creating/reusing the
// rpmsg_char endpoint (rpmsg-char), against fake /dev and /sys trees. Errors a user can cause end in
// one UserError that names the device and what to do.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KmodTransport } from '../../../src/transport/kmod.js';
import { RpmsgCharTransport } from '../../../src/transport/rpmsg-char.js';
import type { ChannelLink } from '../../../src/transport/transport.js';
import { UserError } from '../../../src/util/errors.js';
import { FakeSysfs } from './fake-sysfs.js';
import { PlaneRig, until } from '../../helpers/plane-rig.js';
import { silentLog, testPlan } from './stand-in.js';

const trees: FakeSysfs[] = [];
const links: ChannelLink[] = [];
function tree(): FakeSysfs {
  const t = new FakeSysfs();
  trees.push(t);
  return t;
}
const rigs: PlaneRig[] = [];
/** The data plane the transport hands its endpoint to. */
function events(): PlaneRig {
  const r = new PlaneRig();
  rigs.push(r);
  return r;
}
afterEach(async () => {
  for (const l of links.splice(0)) await l.close();
  for (const r of rigs.splice(0)) r.close();
  for (const t of trees.splice(0)) t.remove();
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('kmod device', () => {
  it('a missing device with the module not loaded is a UserError naming the device and the fix', async () => {
    const t = tree();
    const kmod = new KmodTransport({ log: silentLog, devDir: t.paths.devDir, moduleDir: join(t.root, 'no-module') });
    const err = await rejection(kmod.open(testPlan(), events()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain(`${t.paths.devDir}/rpmsg-eth3 does not exist`);
    expect(err.message).toContain('modprobe rpmsg_eth');
    expect(err.message).toContain('kmod/README.md');
  });

  it('a missing device with the module loaded starts link-down and waits for the channel', async () => {
    const t = tree();
    mkdirSync(join(t.root, 'module'));
    const kmod = new KmodTransport({ log: silentLog, devDir: t.paths.devDir, moduleDir: join(t.root, 'module'), reopenMs: 10 });
    const link = await kmod.open(testPlan(), events());
    links.push(link);
    expect(link.up).toBe(false);
    expect(link.maxPayload).toBe(496);
  });

  it('a device that does not answer the INFO ioctl is refused with a clear message', async () => {
    const t = tree();
    symlinkSync('/dev/null', join(t.paths.devDir, 'rpmsg-eth3'));
    const err = await rejection(new KmodTransport({ log: silentLog, devDir: t.paths.devDir }).open(testPlan(), events()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/rpmsg-eth3 is not an rpmsg-eth device .*RPMSG_ETH_IOC_INFO/);
  });
});

describe('rpmsg-char endpoint', () => {
  it('no rpmsg bus at all: a UserError that says which modules to load', async () => {
    const t = tree();
    const err = await rejection(new RpmsgCharTransport({ log: silentLog, paths: t.paths }).open(testPlan(), events()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('no rpmsg bus');
  });

  it('the channel is on a bus without rpmsg_ctrl: a UserError telling to load rpmsg_ctrl/rpmsg_char', async () => {
    const t = tree().rpmsgBus().channel('virtio0', 'nokia-test-channel', 0x400, 0x30);
    const err = await rejection(new RpmsgCharTransport({ log: silentLog, paths: t.paths }).open(testPlan(), events()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/nokia-test-channel .* no rpmsg_ctrl device: load rpmsg_char .*modprobe rpmsg_ctrl/);
  });

  it('no rpmsg_ctrl yet (remote core not started): link down, waiting', async () => {
    const t = tree().rpmsgBus();
    const link = await new RpmsgCharTransport({ log: silentLog, paths: t.paths, reopenMs: 10 }).open(testPlan(), events());
    links.push(link);
    expect(link.up).toBe(false);
    expect(link.maxPayload).toBe(496);
  });

  it('creating the endpoint goes through the ctrl device; a refusal names the endpoint and the ctrl', async () => {
    // /dev/null stands in for rpmsg_ctrl0: it refuses RPMSG_CREATE_EPT_IOCTL (ENOTTY).
    const t = tree().rpmsgBus().channel('virtio0', 'nokia-test-channel', 0x400, 0x30).ctrl('virtio0', 0, '/dev/null');
    const err = await rejection(new RpmsgCharTransport({ log: silentLog, paths: t.paths }).open(testPlan(), events()));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain(`creating the rpmsg_char endpoint nokia-test-channel 0x30->0x30 on ${t.paths.devDir}/rpmsg_ctrl0`);
    expect(err.message).toContain('RPMSG_CREATE_EPT_IOCTL');
  });

  it('reuses an endpoint left by an earlier run (no second create), opens it, and destroys it on close', async () => {
    const t = tree()
      .rpmsgBus()
      .channel('virtio0', 'nokia-test-channel', 0x400, 0x30)
      .ctrl('virtio0', 0, '/dev/null') // creating would fail: proves the existing endpoint is used
      .endpoint('virtio0', 0, 5, 'nokia-test-channel', 0x30, 0x30);
    // A FIFO stands in for /dev/rpmsg5: it opens non-blocking and polls.
    execFileSync('mkfifo', [join(t.paths.devDir, 'rpmsg5')]);
    const rig = events();
    const link = await new RpmsgCharTransport({ log: silentLog, paths: t.paths }).open(testPlan(), rig);
    links.push(link);
    expect(link.up).toBe(true);
    expect(rig.linkUp).toBe(true);
    // The FIFO refuses RPMSG_DESTROY_EPT_IOCTL: close() logs that and still closes.
    await link.close();
    expect(link.up).toBe(false);
  });

  it('an explicit ctrl device that is absent means waiting; once there, it is used', async () => {
    const t = tree().rpmsgBus().ctrl('virtio0', 0).endpoint('virtio0', 0, 5, 'nokia-test-channel', 0x30, 0x30);
    execFileSync('mkfifo', [join(t.paths.devDir, 'rpmsg5')]);
    const ctrl = join(t.paths.devDir, 'rpmsg_ctrl0');
    const link = await new RpmsgCharTransport({ log: silentLog, paths: t.paths, ctrlDevice: ctrl, reopenMs: 10 }).open(
      testPlan(),
      events(),
    );
    links.push(link);
    expect(link.up).toBe(false);
    symlinkSync('/dev/null', ctrl);
    await until('link up', () => link.up);
  });
});
