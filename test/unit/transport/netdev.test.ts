// The netdev transport's checks before it adopts an interface: there (else: which module parameter or DT
// property to set), and with the plan's MTU (else: what to change). `lo` stands in for an interface with
// a known MTU; nothing is changed on it (adopt() only checks).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChannelPlan } from '../../../src/channels/types.js';
import { createLogger } from '../../../src/log.js';
import { linkState } from '../../../src/native/index.js';
import { NetdevTransport } from '../../../src/transport/netdev.js';

const log = createLogger({ level: 'silent' });
const loMtu = linkState('lo').mtu;

function plan(over: Partial<ChannelPlan> = {}): ChannelPlan {
  return {
    channel: 5, index: 5, name: 'nokia-nat-channel', ifname: 'rpmsg5', ethEndpoint: 0x60, remoteEndpoint: 0x60,
    bufSize: 512, numBufs: 512, maxPayload: 496, framing: 'raw', mtu: 482,
    address: '169.254.105.1/24', peerAddress: '169.254.105.2', enabled: true, ...over,
  };
}

describe('netdev transport: adopt() checks', () => {
  const loaded = mkdtempSync(join(tmpdir(), 'rpe-module-'));
  afterAll(() => rmSync(loaded, { recursive: true, force: true }));

  it('no interface, module not loaded: load it with netdev=', () => {
    const t = new NetdevTransport({ log, moduleDir: join(loaded, 'absent') });
    expect(() => t.adopt({ plan: plan(), netns: undefined, mtuLowered: false })).toThrow(
      /^channel 5 \(nokia-nat-channel\): there is no interface rpmsg5: the rpmsg_eth kernel module is not loaded — load it with netdev=all \(or netdev=5; .*\(or leave channel 5 out: --channels, or channels\.5\.enabled: false\)$/,
    );
  });

  it('no interface, module loaded: the channel is not in netdev mode (parameter or DT property)', () => {
    const t = new NetdevTransport({ log, moduleDir: loaded });
    expect(() => t.adopt({ plan: plan(), netns: undefined, mtuLowered: false })).toThrow(
      /rpmsg_eth is loaded but does not serve channel 5 as an interface — load it with netdev=5 \(or netdev=all\), or set eth-dev-mode = "netdev"/,
    );
  });

  it('the plan\'s MTU: adopted as it is, nothing to set', () => {
    const t = new NetdevTransport({ log, moduleDir: loaded });
    const { iface, setMtu } = t.adopt({ plan: plan({ ifname: 'lo', mtu: loMtu }), netns: undefined, mtuLowered: false });
    expect(setMtu).toBeUndefined();
    expect(iface.foundMtu).toBe(loMtu);
  });

  it('a lower MTU the config asks for: set; the same without channels.N.mtu: refused', () => {
    const t = new NetdevTransport({ log, moduleDir: loaded });
    expect(t.adopt({ plan: plan({ ifname: 'lo', mtu: 400 }), netns: undefined, mtuLowered: true }).setMtu).toBe(400);
    expect(() => t.adopt({ plan: plan({ ifname: 'lo', mtu: 400 }), netns: undefined, mtuLowered: false })).toThrow(
      new RegExp(`^channel 5 \\(nokia-nat-channel\\): lo has MTU ${loMtu}, the plan says 400: the module frames it differently \\(frag\\?\\): set framing: frag for the channel, or channels\\.5\\.mtu: 400 to lower it on purpose$`),
    );
  });

  it('a higher MTU than the interface has: refused, with what to change (frag or channels.N.mtu)', () => {
    const t = new NetdevTransport({ log, moduleDir: loaded });
    const over = loMtu + 1;
    expect(() => t.adopt({ plan: plan({ ifname: 'lo', mtu: over, framing: 'frag' }), netns: undefined, mtuLowered: false })).toThrow(
      new RegExp(`lo has MTU ${loMtu}, the plan says ${over}: the plan has frag framing \\(MTU ${over}\\): load rpmsg_eth with frag=5 \\(and frag_mtu=${over}\\), or set framing: raw for the channel$`),
    );
    expect(() => t.adopt({ plan: plan({ ifname: 'lo', mtu: over }), netns: undefined, mtuLowered: true })).toThrow(
      new RegExp(`the module's buffers carry less than the device tree's rpmsg-buf-size says: set channels\\.5\\.mtu: ${loMtu} in the config$`),
    );
  });
});
