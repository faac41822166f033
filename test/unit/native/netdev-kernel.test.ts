// What the netdev transport reads and opens on an interface it did not make, on a real veth pair across
// two namespaces: linkState's counters (= /sys/class/net/IF/statistics), ethtoolStats (ethtool -S),
// and a PacketSocket that sees both directions of a ping and sends a frame into the interface.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureRecords, ethtoolStats, linkState, PacketSocket } from '../../../src/native/index.js';
import { createTestNetns, deleteTestNetns, nsExec, requireRoot, sh } from '../../helpers/netns.js';

const run = promisify(execFile);
const LNX = `rpe-nk-l-${process.pid}`;
const VX = `rpe-nk-v-${process.pid}`;

function sysfsStat(ns: string, ifname: string, name: string): number {
  return Number(nsExec(ns, 'cat', [`/sys/class/net/${ifname}/statistics/${name}`]).trim());
}

describe('kernel interface counters and packet sockets (root, veth across two namespaces)', () => {
  beforeAll(() => {
    requireRoot();
    createTestNetns(LNX);
    createTestNetns(VX);
    sh('ip', ['-n', LNX, 'link', 'add', 'rpmsg7', 'mtu', '482', 'type', 'veth', 'peer', 'name', 'vx7', 'mtu', '482', 'netns', VX]);
    sh('ip', ['-n', LNX, 'addr', 'add', '10.77.0.1/24', 'dev', 'rpmsg7']);
    sh('ip', ['-n', VX, 'addr', 'add', '10.77.0.2/24', 'dev', 'vx7']);
    sh('ip', ['-n', LNX, 'link', 'set', 'rpmsg7', 'up']);
    sh('ip', ['-n', VX, 'link', 'set', 'vx7', 'up']);
  });
  afterAll(() => {
    deleteTestNetns(LNX);
    deleteTestNetns(VX);
  });

  it('linkState: MTU, index, carrier changes and the same counters as /sys/class/net', async () => {
    await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '3', '-i', '0.2', '10.77.0.2']);
    const s = linkState('rpmsg7', LNX);
    expect(s.mtu).toBe(482);
    expect(s.index).toBeGreaterThan(0);
    expect(s.carrierChanges).toBe(Number(nsExec(LNX, 'cat', ['/sys/class/net/rpmsg7/carrier_changes']).trim()));
    expect(s.stats).toEqual({
      rxPackets: sysfsStat(LNX, 'rpmsg7', 'rx_packets'),
      txPackets: sysfsStat(LNX, 'rpmsg7', 'tx_packets'),
      rxBytes: sysfsStat(LNX, 'rpmsg7', 'rx_bytes'),
      txBytes: sysfsStat(LNX, 'rpmsg7', 'tx_bytes'),
      rxErrors: sysfsStat(LNX, 'rpmsg7', 'rx_errors'),
      txErrors: sysfsStat(LNX, 'rpmsg7', 'tx_errors'),
      rxDropped: sysfsStat(LNX, 'rpmsg7', 'rx_dropped'),
      txDropped: sysfsStat(LNX, 'rpmsg7', 'tx_dropped'),
    });
    expect(s.stats?.txPackets).toBeGreaterThanOrEqual(3);
  });

  it('ethtoolStats: the driver\'s counters by name, null for a driver without any, ENODEV for none', () => {
    const veth = ethtoolStats('rpmsg7', LNX);
    expect(veth?.peer_ifindex).toBe(Number(sh('ip', ['-n', VX, '-j', 'link', 'show', 'vx7']).match(/"ifindex":(\d+)/)?.[1]));
    expect(ethtoolStats('lo', LNX)).toBeNull();
    expect(() => ethtoolStats('rpmsg9', LNX)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });

  it('PacketSocket: a ping seen both ways with its direction; a frame sent arrives at the peer', async () => {
    const buffer = Buffer.alloc(1 << 20);
    const seen: Array<{ direction: string; length: number; icmpType: number | undefined }> = [];
    const errors: number[] = [];
    const socket = new PacketSocket('rpmsg7', LNX, buffer, {
      onRecords: (bytes) => {
        for (const r of captureRecords(buffer, bytes)) {
          const ipv4Icmp = r.data.readUInt16BE(12) === 0x0800 && r.data[23] === 1;
          seen.push({ direction: r.direction, length: r.originalLength, icmpType: ipv4Icmp ? r.data[34] : undefined });
        }
      },
      onError: (errno) => errors.push(errno),
    });
    try {
      await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '2', '-i', '0.2', '-s', '100', '10.77.0.2']);
      await new Promise((r) => setTimeout(r, 100));
      const icmp = seen.filter((s) => s.icmpType !== undefined);
      expect(icmp.filter((s) => s.icmpType === 8 && s.direction === 'tx' && s.length === 142)).toHaveLength(2);
      expect(icmp.filter((s) => s.icmpType === 0 && s.direction === 'rx' && s.length === 142)).toHaveLength(2);
      expect(socket.drops()).toBe(0);

      // One broadcast frame of an unused EtherType into the interface: the peer's end receives it.
      const before = sysfsStat(VX, 'vx7', 'rx_packets');
      const frame = Buffer.alloc(60);
      frame.fill(0xff, 0, 6);
      frame.writeUInt16BE(0x88b5, 12); // IEEE local experimental
      const lengths = new Uint32Array([60]);
      expect(socket.send(frame, 60, lengths, 0, 1)).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(sysfsStat(VX, 'vx7', 'rx_packets')).toBe(before + 1);
      expect(() => socket.send(frame, 60, lengths, 0, 2)).toThrow(/start <= end <= lengths.length/);
      expect(errors).toEqual([]);
    } finally {
      socket.close();
      socket.close();
    }
    // A send-only socket (replay) sends as well and is handed none of the frames passing meanwhile.
    let handed = 0;
    const sender = new PacketSocket('rpmsg7', LNX, Buffer.alloc(80 * 1024), { onRecords: () => void handed++, onError: () => undefined, sendOnly: true });
    try {
      await run('ip', ['netns', 'exec', LNX, 'ping', '-c', '2', '-i', '0.2', '10.77.0.2']);
      const before = sysfsStat(VX, 'vx7', 'rx_packets');
      const frame = Buffer.alloc(60);
      frame.fill(0xff, 0, 6);
      frame.writeUInt16BE(0x88b5, 12);
      expect(sender.send(frame, 60, new Uint32Array([60]), 0, 1)).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(sysfsStat(VX, 'vx7', 'rx_packets')).toBe(before + 1);
      expect(handed).toBe(0);
    } finally {
      sender.close();
    }
    expect(() => new PacketSocket('rpmsg9', LNX, buffer, { onRecords: () => undefined, onError: () => undefined })).toThrow(
      expect.objectContaining({ code: 'ENODEV' }),
    );
  });
});
