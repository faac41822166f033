// Metrics scraped over HTTP on loopback and checked against the snapshot the daemon provides.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, type ChannelMetrics } from '../../../src/metrics/metrics.js';
import { parseListenSpec, startMetricsServer, type MetricsServer } from '../../../src/metrics/server.js';
import { UserError } from '../../../src/util/errors.js';

function channels(): ChannelMetrics[] {
  return [
    {
      device: 'rpmsg0',
      channel: 0,
      channelName: 'fsproxy',
      rx: { packets: 10, bytes: 1000 },
      tx: { packets: 20, bytes: 2048 },
      rxDrops: { oversize: 1, runt: 2, busy: 0 },
      txDrops: { oversize: 3, busy: 4, linkDown: 5 },
      up: true,
      carrierChanges: 3,
      mtu: 8162,
      peer: { reachable: true, rttMs: 0.25 },
    },
    {
      device: 'rpmsg3',
      channel: 3,
      channelName: 'log "ring"',
      rx: { packets: 0, bytes: 0 },
      tx: { packets: 7, bytes: 700 },
      rxDrops: {},
      txDrops: { linkDown: 7 },
      up: false,
      carrierChanges: 1,
      mtu: 482,
      peer: { reachable: null, rttMs: null },
    },
  ];
}

/** Parses the text exposition format into "name{labels}" -> value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('metrics registry', () => {
  it('exposes every counter of the snapshot with device, channel and channel_name labels', async () => {
    const snap = channels();
    let calls = 0;
    const registry = createMetricsRegistry(() => {
      calls++;
      return snap;
    });
    server = await startMetricsServer('0', registry);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    // One snapshot per scrape, shared by all metrics.
    expect(calls).toBe(1);
    const m = parse(text);
    const l0 = 'device="rpmsg0",channel="0",channel_name="fsproxy"';
    const l3 = 'device="rpmsg3",channel="3",channel_name="log \\"ring\\""';
    expect(m.get(`rpmsg_eth_receive_packets_total{${l0}}`)).toBe(10);
    expect(m.get(`rpmsg_eth_receive_bytes_total{${l0}}`)).toBe(1000);
    expect(m.get(`rpmsg_eth_transmit_packets_total{${l0}}`)).toBe(20);
    expect(m.get(`rpmsg_eth_transmit_bytes_total{${l0}}`)).toBe(2048);
    expect(m.get(`rpmsg_eth_transmit_bytes_total{${l3}}`)).toBe(700);
    expect(m.get(`rpmsg_eth_receive_drop_total{${l0},reason="runt"}`)).toBe(2);
    expect(m.get(`rpmsg_eth_receive_drop_total{${l0},reason="busy"}`)).toBe(0);
    expect(m.get(`rpmsg_eth_transmit_drop_total{${l0},reason="linkDown"}`)).toBe(5);
    expect(m.get(`rpmsg_eth_transmit_drop_total{${l3},reason="linkDown"}`)).toBe(7);
    expect(m.has(`rpmsg_eth_receive_drop_total{${l0},reason="linkDown"}`)).toBe(false);
    expect(m.get(`rpmsg_eth_up{${l0}}`)).toBe(1);
    expect(m.get(`rpmsg_eth_up{${l3}}`)).toBe(0);
    expect(m.get(`rpmsg_eth_carrier_changes_total{${l0}}`)).toBe(3);
    expect(m.get(`rpmsg_eth_mtu_bytes{${l3}}`)).toBe(482);
    expect(m.get(`rpmsg_eth_peer_reachable{${l0}}`)).toBe(1);
    expect(m.get(`rpmsg_eth_peer_rtt_seconds{${l0}}`)).toBeCloseTo(0.00025, 9);
    // Unknown reachability is no series, not a 0.
    expect(m.has(`rpmsg_eth_peer_reachable{${l3}}`)).toBe(false);
    expect(m.has(`rpmsg_eth_peer_rtt_seconds{${l3}}`)).toBe(false);
    expect(text).toMatch(/# TYPE rpmsg_eth_receive_bytes_total counter/);
    expect(text).toMatch(/# TYPE rpmsg_eth_up gauge/);
    // Nothing from prom-client's default (process) metrics or global registry.
    expect(text).not.toMatch(/process_cpu|nodejs_/);
  });

  it('follows the snapshot between scrapes and forgets removed channels', async () => {
    const snap = channels();
    const registry = createMetricsRegistry(() => snap);
    server = await startMetricsServer('127.0.0.1:0', registry);
    const url = `http://127.0.0.1:${server.port}/metrics`;
    await fetch(url).then((r) => r.text());
    snap[0]!.rx.packets = 11;
    snap[0]!.peer = { reachable: false, rttMs: null };
    snap.pop();
    const m = parse(await fetch(url).then((r) => r.text()));
    const l0 = 'device="rpmsg0",channel="0",channel_name="fsproxy"';
    expect(m.get(`rpmsg_eth_receive_packets_total{${l0}}`)).toBe(11);
    expect(m.get(`rpmsg_eth_peer_reachable{${l0}}`)).toBe(0);
    expect(m.has(`rpmsg_eth_peer_rtt_seconds{${l0}}`)).toBe(false);
    expect([...m.keys()].some((k) => k.includes('rpmsg3'))).toBe(false);
  });

  it('answers 500 with the reason when the snapshot fails, and keeps serving', async () => {
    let fail = true;
    const registry = createMetricsRegistry(() => {
      if (fail) throw new Error('daemon is stopping');
      return channels();
    });
    server = await startMetricsServer('0', registry);
    const url = `http://127.0.0.1:${server.port}/metrics`;
    const res = await fetch(url);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('daemon is stopping');
    fail = false;
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('metrics server', () => {
  it('binds loopback by default and serves only /metrics', async () => {
    server = await startMetricsServer('0', createMetricsRegistry(() => []));
    expect(server.address).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metricsx`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics?x=1`)).status).toBe(200);
  });

  it('binds the address given', async () => {
    server = await startMetricsServer('[::1]:0', createMetricsRegistry(() => []));
    expect(server.address).toBe('::1');
    expect((await fetch(`http://[::1]:${server.port}/metrics`)).status).toBe(200);
  });

  it('reports a port in use as a clear UserError', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const attempt = startMetricsServer(String(port), createMetricsRegistry(() => []));
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await expect(attempt).rejects.toThrow(`127.0.0.1:${port} is already in use`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('reports an address not on this host', async () => {
    await expect(startMetricsServer('192.0.2.1:0', createMetricsRegistry(() => []))).rejects.toThrow(
      /192\.0\.2\.1 is not an address of this host/,
    );
  });
});

describe('parseListenSpec', () => {
  it('accepts PORT, ADDR:PORT and [IPv6]:PORT', () => {
    expect(parseListenSpec('9464')).toEqual({ address: '127.0.0.1', port: 9464 });
    expect(parseListenSpec('0.0.0.0:9100')).toEqual({ address: '0.0.0.0', port: 9100 });
    expect(parseListenSpec('[::]:9100')).toEqual({ address: '::', port: 9100 });
    expect(parseListenSpec('localhost:1')).toEqual({ address: 'localhost', port: 1 });
  });

  it.each([
    ['', /is not a port number/],
    ['http', /"http" is not a port number/],
    ['65536', /out of range/],
    ['-1', /not a port number/],
    ['1.2.3:80', /"1.2.3" is not an IPv4 address/],
    ['::1:80', /IPv6 address in brackets/],
    ['[1.2.3.4]:80', /not an IPv6 address/],
    ['127.0.0.1:', /"" is not a port number/],
  ])('rejects %j', (spec, why) => {
    expect(() => parseListenSpec(spec)).toThrow(UserError);
    expect(() => parseListenSpec(spec)).toThrow(why);
  });
});
