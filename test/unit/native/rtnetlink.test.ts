// linkState: an interface's operstate and carrier as the kernel reports them, read inside its namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInterfaceState } from '../../../src/iface/tap.js';
import { closeFd, linkSet, linkState, tapCreate, tapSetCarrier } from '../../../src/native/index.js';
import { createTestNetns, deleteTestNetns, links, requireRoot } from '../../helpers/netns.js';

const NS = `rpe-ls-${process.pid}`;

describe('linkState (root, in a private netns)', () => {
  let fd = -1;
  beforeAll(() => {
    requireRoot();
    createTestNetns(NS);
    fd = tapCreate('rpmls0', NS);
  });
  afterAll(() => {
    if (fd >= 0) closeFd(fd);
    deleteTestNetns(NS);
  });

  it('agrees with ip link: down, then up with carrier, then no carrier', () => {
    expect(linkState('rpmls0', NS)).toMatchObject({ operstate: 'down', carrier: true, adminUp: false });
    linkSet('rpmls0', { netns: NS, up: true });
    const up = linkState('rpmls0', NS);
    expect(up).toMatchObject({ carrier: true, adminUp: true });
    // A TAP that never reported its state is "unknown" to the kernel, like to `ip link`.
    expect(up.operstate).toBe(links(NS).find((l) => l.ifname === 'rpmls0')!.operstate.toLowerCase());
    tapSetCarrier(fd, false);
    expect(linkState('rpmls0', NS)).toMatchObject({ operstate: 'down', carrier: false, adminUp: true });
    expect(links(NS).find((l) => l.ifname === 'rpmls0')!.flags).toContain('NO-CARRIER');
    tapSetCarrier(fd, true);
    // Set down by hand: operstate down, the carrier (the peer's side) still there.
    linkSet('rpmls0', { netns: NS, up: false });
    expect(linkState('rpmls0', NS)).toMatchObject({ operstate: 'down', carrier: true, adminUp: false });
  });

  it('ENODEV for an interface that is not there; readInterfaceState says notpresent', () => {
    expect(() => linkState('rpmls9', NS)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
    expect(() => linkState('rpmls9', NS)).toThrow(/reading the state of rpmls9 in netns rpe-ls-\d+: RTM_GETLINK/);
    expect(readInterfaceState('rpmls9', NS)).toEqual({ operstate: 'notpresent', carrier: false, adminUp: false });
    // The interface lives in NS only.
    expect(readInterfaceState('rpmls0')).toEqual({ operstate: 'notpresent', carrier: false, adminUp: false });
  });

  it('refuses a bad name and a missing namespace with a message naming them', () => {
    expect(() => linkState('', NS)).toThrow(/invalid interface name/);
    expect(() => linkState('x'.repeat(16), NS)).toThrow(/invalid interface name/);
    expect(() => linkState('rpmls0', 'rpe-no-such-ns')).toThrow(/rpe-no-such-ns/);
  });
});
