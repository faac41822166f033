// The daemon's configuration file (config/rpmsg-eth.yaml): what it may contain and the defaults.
// Unknown keys are errors so a typo never silently falls back to a default.
import { z } from 'zod';
import { checkListenSpec } from '../metrics/server.js';
import { parseIpv4, parseIpv4Net } from './ipv4.js';

/** Leaves room for sections added later (framing, health, metrics): each is a key of its own. */
const ipv4WithPrefix = z
  .string()
  .refine((s) => parseIpv4Net(s) !== null, { message: 'expected an IPv4 address with prefix, e.g. 169.254.103.1/24' });
const ipv4WithOptionalPrefix = z
  .string()
  .refine((s) => parseIpv4Net(s, 32) !== null, { message: 'expected an IPv4 address, optionally with a prefix, e.g. 169.254.103.1/24' });
const ipv4 = z.string().refine((s) => parseIpv4(s) !== null, { message: 'expected an IPv4 address, e.g. 169.254.103.2' });

/** A section may be left empty in YAML (`peer:` alone parses as null): treat that as absent. */
const section = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema);

/** raw: one frame per rpmsg message; frag: frag/wire-spec.md (MTU up to 9000, peer must speak it). */
export const framingSchema = z.enum(['raw', 'frag']);

export const channelOverrideSchema = z.strictObject({
  /** false: the channel is planned but the daemon does not bring it up. */
  enabled: z.boolean().optional(),
  /** Linux-side address; without a prefix the addressing prefix applies. */
  address: ipv4WithOptionalPrefix.optional(),
  /** VxWorks-side address (no prefix). */
  peerAddress: ipv4.optional(),
  /** May only lower the MTU the buffer size allows. */
  mtu: z.number().int().min(68).max(65535).optional(),
  /** The VxWorks side's eth-dev endpoint address, when it differs from the local one. */
  remoteEndpoint: z.number().int().min(0).max(0xffffffff).optional(),
  /** Overrides the global framing for this channel. */
  framing: framingSchema.optional(),
  /** false: no ICMP health probes to this channel's peer. */
  health: z.boolean().optional(),
});

export const configSchema = z.strictObject({
  /** Device-tree source: .dts, .dtb or a /proc/device-tree directory; relative to this file. */
  deviceTree: z.string().min(1).default('./lanta.dts'),
  /** Folders searched by a .dts's #include <...> and /include/ (cpp -I, dtc -i); relative to this file. */
  deviceTreeIncludes: section(z.array(z.string().min(1)).max(64).default(['./include'])),
  /** sim, kmod, rpmsg-char: TAPs and the daemon's data plane; netdev: rpmsg_eth's own interfaces, adopted. */
  transport: z.enum(['sim', 'kmod', 'rpmsg-char', 'netdev']).default('sim'),
  /** Framing of every channel unless the channel says otherwise. */
  framing: framingSchema.default('raw'),
  interfaces: section(
    z
      .strictObject({
        /** {channel} = channel-num, {index} = position in the table. Result must be a valid interface name. */
        namePattern: z
          .string()
          .refine((s) => s.includes('{channel}') || s.includes('{index}'), {
            message: 'must contain {channel} or {index} so that every interface gets its own name',
          })
          .default('rpmsg{channel}'),
      })
      .prefault({}),
  ),
  addressing: section(
    z
      .strictObject({
        /** Channel N gets the N-th subnet of this size after this one: 169.254.(100+N).0/24 by default. */
        subnet: ipv4WithPrefix.default('169.254.100.0/24'),
        /** Host part of the Linux-side address in each channel's subnet. */
        linuxHost: z.number().int().min(1).default(1),
        /** Host part of the VxWorks-side address. */
        peerHost: z.number().int().min(1).default(2),
      })
      .prefault({}),
  ),
  peer: section(
    z
      .strictObject({
        /** Network namespace that holds the simulated VxWorks side. */
        netns: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'expected a network-namespace name (letters, digits, _ . -)' })
          .default('rpmsg-vx'),
      })
      .prefault({}),
  ),
  /** ICMP echo to each channel's peer address, for `status` and the metrics. */
  health: section(
    z
      .strictObject({
        /** Milliseconds between probes; 0 turns health probes off. */
        intervalMs: z
          .union([z.literal(0), z.number().int().min(100).max(3_600_000)], {
            error: 'expected 0 (off) or a whole number of milliseconds from 100 to 3600000',
          })
          .default(5000),
        /** Unanswered probes in a row before the peer counts as unreachable. */
        failAfter: z.number().int().min(1).max(100).default(3),
      })
      .prefault({}),
  ),
  /** The daemon's control socket (read at start); clients find the daemon through it. */
  controlSocket: z.string().min(1).optional(),
  /** Prometheus endpoint, "[ADDR:]PORT" (loopback unless an address is given); absent = off. */
  metrics: z
    .string()
    .superRefine((spec, ctx) => {
      const checked = checkListenSpec(spec);
      if (typeof checked === 'string') ctx.addIssue({ code: 'custom', message: checked });
    })
    .optional(),
  /** Per-channel overrides keyed by channel number (channel-num). */
  channels: section(
    z.record(z.string().regex(/^(0|[1-9][0-9]{0,9})$/, { message: 'expected a channel number' }), channelOverrideSchema).default({}),
  ),
});

export type Config = z.output<typeof configSchema>;
export type ChannelOverride = z.output<typeof channelOverrideSchema>;
