// Finding a channel's rpmsg_ctrl device and the endpoint device it created, in a fake sysfs tree.
import { afterEach, describe, expect, it } from 'vitest';
import { findCtrlDevice, findEndpointDevice, ctrlSysDir } from '../../../src/transport/devices.js';
import { FakeSysfs } from './fake-sysfs.js';

const trees: FakeSysfs[] = [];
function tree(): FakeSysfs {
  const t = new FakeSysfs();
  trees.push(t);
  return t;
}
afterEach(() => {
  for (const t of trees.splice(0)) t.remove();
});

describe('findCtrlDevice', () => {
  it('takes the rpmsg_ctrl of the bus that carries the channel, not the first one', () => {
    const t = tree()
      .rpmsgBus()
      .channel('virtio0', 'nokia-other-channel', 0x400, 0x20)
      .channel('virtio1', 'nokia-test-channel', 0x401, 0x30)
      .ctrl('virtio0', 0)
      .ctrl('virtio1', 1);
    const found = findCtrlDevice('nokia-test-channel', t.paths);
    expect(found).toMatchObject({ found: true, ctrl: `${t.paths.devDir}/rpmsg_ctrl1`, how: 'channel' });
    expect(findCtrlDevice('nokia-other-channel', t.paths)).toMatchObject({ found: true, ctrl: `${t.paths.devDir}/rpmsg_ctrl0` });
  });

  it('falls back to the only rpmsg_ctrl when the channel is not announced, and waits when that is ambiguous', () => {
    const t = tree().rpmsgBus().ctrl('virtio0', 0);
    expect(findCtrlDevice('nokia-test-channel', t.paths)).toMatchObject({ found: true, how: 'only-bus' });
    t.ctrl('virtio1', 1);
    expect(findCtrlDevice('nokia-test-channel', t.paths)).toEqual({ found: false, why: 'waiting' });
  });

  it('says why when there is no rpmsg bus, or the channel bus has no rpmsg_ctrl', () => {
    const t = tree();
    expect(findCtrlDevice('nokia-test-channel', t.paths)).toEqual({ found: false, why: 'no-bus' });
    t.rpmsgBus().channel('virtio0', 'nokia-test-channel', 0x400, 0x30).ctrl('virtio1', 0);
    expect(findCtrlDevice('nokia-test-channel', t.paths)).toMatchObject({ found: false, why: 'no-ctrl-for-channel' });
  });
});

describe('findEndpointDevice', () => {
  it('finds the endpoint by name, src and dst under its rpmsg_ctrl only', () => {
    const t = tree()
      .rpmsgBus()
      .ctrl('virtio0', 0)
      .ctrl('virtio1', 1)
      .endpoint('virtio0', 0, 2, 'nokia-test-channel', 0x30, 0x30) // same endpoint, other bus
      .endpoint('virtio1', 1, 3, 'nokia-test-channel', 0x31, 0x30) // other src
      .endpoint('virtio1', 1, 4, 'nokia-test-channel', 0x30, 0x30);
    const sys = ctrlSysDir('/dev/rpmsg_ctrl1', t.paths)!;
    expect(sys).toBeDefined();
    expect(findEndpointDevice(sys, { name: 'nokia-test-channel', src: 0x30, dst: 0x30 }, t.paths)).toBe(
      `${t.paths.devDir}/rpmsg4`,
    );
    expect(findEndpointDevice(sys, { name: 'nokia-test-channel', src: 0x32, dst: 0x30 }, t.paths)).toBeUndefined();
    expect(findEndpointDevice(sys, { name: 'nokia-other', src: 0x30, dst: 0x30 }, t.paths)).toBeUndefined();
  });

  it('reads rpmsg_char addresses printed as signed decimal (RPMSG_ADDR_ANY = -1)', () => {
    const t = tree().rpmsgBus().ctrl('virtio0', 0).endpoint('virtio0', 0, 7, 'x', 0xffffffff, 1024);
    const sys = ctrlSysDir('rpmsg_ctrl0', t.paths)!;
    expect(findEndpointDevice(sys, { name: 'x', src: 0xffffffff, dst: 1024 }, t.paths)).toBe(`${t.paths.devDir}/rpmsg7`);
  });
});
