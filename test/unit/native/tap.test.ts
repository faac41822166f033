// TAP devices through the native binding, inside a network namespace this file creates and removes:
// creation, link settings, carrier, and the data plane's TAP side with the kernel on the other side.
import { execFile, execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane, captureRecords, closeFd, linkSet, seqpacketPair, tapCreate, tapSetCarrier } from '../../../src/native/index.js';
import { drain, put, until } from '../../helpers/plane-rig.js';

const NS = `rpmsg-eth-nt-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const run = promisify(execFile);

interface IpLink {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
}

function ipLink(name: string, netns?: string): IpLink | undefined {
  const args = [...(netns ? ['-n', netns] : []), '-j', 'link', 'show', 'dev', name];
  try {
    return (JSON.parse(execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString()) as IpLink[])[0];
  } catch {
    return undefined;
  }
}

function inNs(...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', NS, ...args], { stdio: 'ignore' });
}

// fds a test opened and still owns; a DataPlane takes its TAP fd over (see plane()).
const ownedFds = new Set<number>();
const planes: DataPlane[] = [];
afterEach(() => {
  for (const p of planes.splice(0)) p.close();
  for (const fd of ownedFds) closeFd(fd);
  ownedFds.clear();
});

/** A data plane on the TAP with a stand-in device endpoint; the test holds the device's far end. */
function plane(fd: number, tapSlot: number, onTapHangup: (errno: number) => void = () => undefined, onCapture: (bytes: number) => void = () => undefined) {
  const p = new DataPlane(fd, { tapSlot, frag: false }, { onLinkLost() {}, onModeChange() {}, onCapture, onTapHangup });
  ownedFds.delete(fd);
  planes.push(p);
  const [ours, remote] = seqpacketPair();
  ownedFds.add(remote);
  p.attachDevice(ours, { maxPayload: tapSlot, batchIoctl: false, room: 'pollout', busyErrnos: [11], dropErrnos: [], retryMinMs: 2, retryMaxMs: 50 });
  return { p, remote };
}

describe.skipIf(!isRoot)('TAP devices (root, in a private netns)', () => {
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    // No IPv6 chatter (router solicitations, DAD): the TAP then carries only what a test sends.
    inNs('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    inNs('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', NS]);
  });

  function tap(name: string): number {
    const fd = tapCreate(name, NS);
    ownedFds.add(fd);
    return fd;
  }

  it('creates the TAP in the namespace, not in the caller, and leaves the thread where it was', () => {
    const before = readlinkSync('/proc/thread-self/ns/net');
    tap('rpmt0');
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(before);
    expect(ipLink('rpmt0', NS)?.ifname).toBe('rpmt0');
    expect(ipLink('rpmt0')).toBeUndefined();
  });

  it('removes the TAP when its fd closes', () => {
    const fd = tapCreate('rpmt1', NS);
    expect(ipLink('rpmt1', NS)).toBeDefined();
    closeFd(fd);
    expect(ipLink('rpmt1', NS)).toBeUndefined();
  });

  it('applies MTU, MAC and up/down', () => {
    tap('rpmt0');
    linkSet('rpmt0', { netns: NS, mtu: 482, mac: '02:52:50:00:00:07', up: true });
    let link = ipLink('rpmt0', NS)!;
    expect(link.mtu).toBe(482);
    expect(link.address).toBe('02:52:50:00:00:07');
    expect(link.flags).toContain('UP');
    linkSet('rpmt0', { netns: NS, mtu: 8162 });
    expect(ipLink('rpmt0', NS)!.mtu).toBe(8162);
    linkSet('rpmt0', { netns: NS, up: false });
    link = ipLink('rpmt0', NS)!;
    expect(link.flags).not.toContain('UP');
    expect(link.mtu).toBe(8162);
  });

  it('toggles carrier (NO-CARRIER)', () => {
    const fd = tap('rpmt0');
    linkSet('rpmt0', { netns: NS, up: true });
    tapSetCarrier(fd, false);
    expect(ipLink('rpmt0', NS)!.flags).toContain('NO-CARRIER');
    tapSetCarrier(fd, true);
    expect(ipLink('rpmt0', NS)!.flags).not.toContain('NO-CARRIER');
  });

  it('gives clear errors naming the interface', () => {
    tap('rpmt0');
    expect(() => tapCreate('rpmt0', NS)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(() => tapCreate('rpmt0', NS)).toThrow(/creating TAP rpmt0 in netns rpmsg-eth-nt-\d+: ioctl\(TUNSETIFF\)/);
    expect(() => tapCreate('rpmt2', 'rpmsg-eth-no-such-ns')).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: expect.stringMatching(/creating TAP rpmt2 in netns rpmsg-eth-no-such-ns/) }),
    );
    expect(() => tapCreate('a-name-far-too-long-for-linux')).toThrow(TypeError);
    expect(() => linkSet('rpmt0', { netns: NS, mac: 'not-a-mac' })).toThrow(TypeError);
    expect(() => linkSet('rpmt0', { netns: NS, mtu: 1_000_000 })).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/configuring rpmt0 .*mtu 1000000/) }),
    );
    expect(() => linkSet('rpmt9', { netns: NS, up: true })).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });

  describe('frames to and from the kernel', () => {
    const TAP_MAC = '02:52:50:00:00:01';
    const PEER_MAC = [0x02, 0x52, 0x50, 0x00, 0x00, 0x02];
    const PEER_IP = '10.77.0.2';

    function tapWithAddress(name: string, mtu = 1500): number {
      const fd = tap(name);
      linkSet(name, { netns: NS, mtu, mac: TAP_MAC, up: true });
      inNs('ip', 'addr', 'add', '10.77.0.1/24', 'dev', name);
      // A static neighbour: the kernel sends IPv4 straight away, no ARP on the TAP.
      inNs('ip', 'neigh', 'replace', PEER_IP, 'lladdr', '02:52:50:00:00:02', 'dev', name);
      return fd;
    }

    /** Turns an ICMP echo request frame into the reply, in place. False if it is not one. */
    function echoReply(frame: Buffer): boolean {
      if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 1 || frame[34] !== 8) return false;
      const srcMac = Buffer.from(frame.subarray(6, 12));
      frame.copy(frame, 6, 0, 6);
      srcMac.copy(frame, 0);
      const srcIp = frame.readUInt32BE(26);
      frame.writeUInt32BE(frame.readUInt32BE(30), 26);
      frame.writeUInt32BE(srcIp, 30);
      frame[34] = 0; // echo reply: the checksum grows by 0x0800 (one's complement arithmetic)
      let sum = frame.readUInt16BE(36) + 0x0800;
      sum = (sum & 0xffff) + (sum >> 16);
      frame.writeUInt16BE(sum, 36);
      return true;
    }

    it('reads frames the kernel sends, exact headers, and hands them on in order', async () => {
      const fd = tapWithAddress('rpmt0');
      const { remote } = plane(fd, 1600);
      // 10 requests nobody answers.
      await run('ip', ['netns', 'exec', NS, 'ping', '-q', '-c', '10', '-i', '0.01', '-W', '0.05', '-s', '100', PEER_IP]).catch(() => {});
      const frames: Buffer[] = [];
      await until('10 frames', () => (frames.push(...drain(remote)), frames.length >= 10));
      for (const [i, frame] of frames.entries()) {
        expect(frame.length).toBe(14 + 20 + 8 + 100);
        expect([...frame.subarray(0, 6)]).toEqual(PEER_MAC);
        expect(frame.subarray(6, 12).toString('hex')).toBe(TAP_MAC.replaceAll(':', ''));
        expect(frame.readUInt16BE(12)).toBe(0x0800);
        expect(frame.subarray(30, 34).join('.')).toBe(PEER_IP);
        expect(frame[34]).toBe(8); // echo request
        expect(frame.readUInt16BE(40)).toBe(i + 1); // icmp_seq: in order
      }
    });

    it('answers pings: the replies the remote sends back reach the kernel', async () => {
      const fd = tapWithAddress('rpmt0');
      const { p, remote } = plane(fd, 1600);
      let replies = 0;
      const answer = setInterval(() => {
        const requests = drain(remote).filter(echoReply);
        replies += put(remote, requests);
      }, 1);
      try {
        const { stdout } = await run('ip', ['netns', 'exec', NS, 'ping', '-c', '20', '-i', '0.01', '-W', '1', PEER_IP]);
        expect(stdout).toMatch(/20 packets transmitted, 20 received/);
      } finally {
        clearInterval(answer);
      }
      expect(replies).toBe(20);
      expect(p.counters().rxPackets).toBe(20);
    });

    it('counts a frame longer than the endpoint payload as oversize, with its true length', async () => {
      const fd = tapWithAddress('rpmt0');
      const capture = Buffer.alloc(1 << 16);
      const records: Array<[number | undefined, number]> = [];
      const { p, remote } = plane(fd, 600, undefined, (bytes) => {
        for (const r of captureRecords(capture, bytes)) records.push([r.reason, r.originalLength]);
      });
      p.setCapture(capture);
      await run('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '0.2', '-s', '1000', PEER_IP]).catch(() => {});
      await run('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '0.2', '-s', '100', PEER_IP]).catch(() => {});
      const got: Buffer[] = [];
      await until('the small frame', () => (got.push(...drain(remote)), got.length >= 1));
      expect(got.map((f) => f.length)).toEqual([14 + 20 + 8 + 100]);
      expect(p.counters().txOversize).toBe(1);
      // Captured: the drop (reason 0 = oversize) with its true length, then the frame sent.
      expect(records).toEqual([[0, 14 + 20 + 8 + 1000], [undefined, 14 + 20 + 8 + 100]]);
    });

    it('drops a runt from the endpoint (counted, never written) and delivers the next frame', async () => {
      const fd = tapWithAddress('rpmt0');
      const { p, remote } = plane(fd, 600);
      const reply = Buffer.alloc(60);
      put(remote, [Buffer.alloc(5), reply]);
      await until('two frames handled', () => {
        const c = p.counters();
        return c.rxRunt! + c.rxPackets! >= 2;
      });
      expect(p.counters().rxRunt).toBe(1);
    });

    // Issue 14: every write error but EAGAIN/ENOBUFS used to count as runt.
    it('a frame for an interface set down is an interfaceDown drop, not a runt', async () => {
      const fd = tapWithAddress('rpmt0');
      const { p, remote } = plane(fd, 600);
      inNs('ip', 'link', 'set', 'rpmt0', 'down');
      put(remote, [Buffer.alloc(60)]);
      await until('the frame handled', () => p.counters().rxInterfaceDown! + p.counters().rxRunt! + p.counters().rxPackets! >= 1);
      expect(p.counters()).toMatchObject({ rxInterfaceDown: 1, rxRunt: 0, rxPackets: 0 });
    });

    it('a frame for a deleted interface is a tapGone drop, and the hangup is reported', async () => {
      const fd = tapWithAddress('rpmt0');
      let hangups = 0;
      const { p, remote } = plane(fd, 600, () => hangups++);
      inNs('ip', 'link', 'del', 'rpmt0');
      put(remote, [Buffer.alloc(60)]);
      await until('the hangup', () => hangups > 0);
      await until('the frame handled', () => p.counters().rxTapGone! + p.counters().rxRunt! + p.counters().rxPackets! >= 1);
      expect(p.counters()).toMatchObject({ rxTapGone: 1, rxRunt: 0, rxPackets: 0 });
      expect(hangups).toBe(1);
    });

    it('reports the TAP going away when the interface is deleted under it', async () => {
      const fd = tapWithAddress('rpmt0');
      const hangup = new Promise<number>((resolve, reject) => {
        plane(fd, 1600, resolve);
        setTimeout(() => reject(new Error('no hangup within 2 s')), 2000);
      });
      inNs('ip', 'link', 'del', 'rpmt0');
      expect(await hangup).toBeGreaterThan(0);
    });
  });
});
