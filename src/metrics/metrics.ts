// Prometheus metrics for the daemon, in the style of node_exporter's node_network_*: a private
// Registry whose metrics read a snapshot of the daemon's counters at scrape time. Nothing here runs on
// the per-frame path; a scrape costs one snapshot() call.
import { Counter, Gauge, Registry } from 'prom-client';

/** One channel as the metrics see it; the daemon builds these from its bridges and health checks. */
export interface ChannelMetrics {
  /** Interface name, e.g. "rpmsg3". */
  device: string;
  /** Channel number (`channel-num`). */
  channel: number;
  /** Channel name from the device tree. */
  channelName: string;
  /** Remote -> Linux. */
  rx: { packets: number; bytes: number };
  /** Linux -> remote. */
  tx: { packets: number; bytes: number };
  /** Frames from the remote side not delivered to the interface, by reason. */
  rxDrops: Readonly<Record<string, number>>;
  /** Frames from the interface not delivered to the remote side, by reason. */
  txDrops: Readonly<Record<string, number>>;
  /** Link to the remote endpoint (the TAP's carrier mirrors it). */
  up: boolean;
  carrierChanges: number;
  mtu: number;
  /** Peer health; absent or null when health checks are off for the channel. */
  peer?: { reachable: boolean | null; rttMs: number | null } | null;
}

const LABELS = ['device', 'channel', 'channel_name'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

function labelsOf(c: ChannelMetrics): Labels {
  return { device: c.device, channel: String(c.channel), channel_name: c.channelName };
}

/**
 * A private Registry (never prom-client's global one) with the rpmsg_eth_* metrics. `snapshot` is
 * called once per scrape; it may throw, which fails that scrape only.
 */
export function createMetricsRegistry(snapshot: () => readonly ChannelMetrics[]): Registry {
  const registry = new Registry();

  // Every metric's collect() runs synchronously inside one registry.metrics() call: share one
  // snapshot between them and forget it once the current synchronous run is over.
  let cached: readonly ChannelMetrics[] | undefined;
  const current = (): readonly ChannelMetrics[] => {
    if (!cached) {
      cached = snapshot();
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };

  // Each scrape: reset, then one sample per channel (a null value: none for that channel).
  const perChannel = (value: (c: ChannelMetrics) => number | null, put: (labels: Labels, v: number) => void): void => {
    for (const c of current()) {
      const v = value(c);
      if (v !== null) put(labelsOf(c), v);
    }
  };
  const counter = (name: string, help: string, value: (c: ChannelMetrics) => number): void => {
    new Counter({ name, help, labelNames: LABELS, registers: [registry], collect() {
      this.reset();
      perChannel(value, (labels, v) => this.inc(labels, v));
    } });
  };
  const gauge = (name: string, help: string, value: (c: ChannelMetrics) => number | null): void => {
    new Gauge({ name, help, labelNames: LABELS, registers: [registry], collect() {
      this.reset();
      perChannel(value, (labels, v) => this.set(labels, v));
    } });
  };
  const drops = (name: string, help: string, pick: (c: ChannelMetrics) => Readonly<Record<string, number>>): void => {
    new Counter({
      name,
      help,
      labelNames: [...LABELS, 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of current()) {
          for (const [reason, n] of Object.entries(pick(c))) this.inc({ ...labelsOf(c), reason }, n);
        }
      },
    });
  };

  counter('rpmsg_eth_receive_packets_total', 'Frames received from the remote core and delivered to the interface.', (c) => c.rx.packets);
  counter('rpmsg_eth_receive_bytes_total', 'Bytes received from the remote core and delivered to the interface.', (c) => c.rx.bytes);
  counter('rpmsg_eth_transmit_packets_total', 'Frames sent from the interface to the remote core.', (c) => c.tx.packets);
  counter('rpmsg_eth_transmit_bytes_total', 'Bytes sent from the interface to the remote core.', (c) => c.tx.bytes);
  drops('rpmsg_eth_receive_drop_total', 'Frames from the remote core dropped by the daemon, by reason.', (c) => c.rxDrops);
  drops('rpmsg_eth_transmit_drop_total', 'Frames for the remote core dropped by the daemon, by reason.', (c) => c.txDrops);
  gauge('rpmsg_eth_up', '1 when the link to the remote endpoint is up (carrier on), else 0.', (c) => (c.up ? 1 : 0));
  counter('rpmsg_eth_carrier_changes_total', 'Link (carrier) state changes since the channel came up.', (c) => c.carrierChanges);
  gauge('rpmsg_eth_mtu_bytes', 'Interface MTU in bytes.', (c) => c.mtu);
  // Peer series exist only while a health check has a result: "unknown" is absence, not 0.
  gauge('rpmsg_eth_peer_reachable', '1 when the peer answers ICMP echo, 0 when it stopped answering.', (c) =>
    c.peer?.reachable == null ? null : c.peer.reachable ? 1 : 0,
  );
  gauge('rpmsg_eth_peer_rtt_seconds', 'Round-trip time of the last answered ICMP echo to the peer.', (c) =>
    c.peer?.rttMs == null ? null : c.peer.rttMs / 1000,
  );
  return registry;
}
