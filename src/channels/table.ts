// The channel table of the board's rpmsg node, read the way the board's platform driver reads it
// (nokia_rpmsg_probe_dt): one value per channel in every array property, the channel count being the
// number of `channel-num` cells, required and optional properties as the driver has them, and the
// driver's defaults (256 buffers of 512 bytes) where the optional buffer properties are absent.
import { isEnabled, readString, readStringList, readU32Cells, readU64Values, type DtNode } from '../devicetree/tree.js';
import type { Finding } from './findings.js';
import type { Channel } from './types.js';

export const DEFAULT_NUM_BUFS = 256;
export const DEFAULT_BUF_SIZE = 512;

type Kind = 'u32' | 'u64' | 'string';

interface PropertySpec {
  property: string;
  kind: Kind;
  required: boolean;
}

/** Every property the driver reads, in the driver's order, with its must/optional flag. */
export const CHANNEL_PROPERTIES: readonly PropertySpec[] = [
  { property: 'rpmsg-role', kind: 'u32', required: true },
  { property: 'input-msgirq-num', kind: 'u32', required: false },
  { property: 'output-msgirq-num', kind: 'u32', required: true },
  { property: 'input-dstcpu-id', kind: 'u32', required: false },
  { property: 'output-dstcpu-id', kind: 'u32', required: false },
  { property: 'channel-num', kind: 'u32', required: true },
  { property: 'channel-src', kind: 'u32', required: true },
  { property: 'channel-dst', kind: 'u32', required: true },
  { property: 'eth-dev-endpoints', kind: 'u32', required: true },
  { property: 'misc-dev-endpoints', kind: 'u32', required: true },
  { property: 'rpmsg-num-bufs', kind: 'u32', required: false },
  { property: 'rpmsg-buf-size', kind: 'u32', required: false },
  { property: 'shmem-rx-vring', kind: 'u64', required: true },
  { property: 'shmem-tx-vring', kind: 'u64', required: true },
  { property: 'data-buffer-pool', kind: 'u64', required: false },
  // The driver reads the name unconditionally (and uses it), so it is required in practice.
  { property: 'channel-name', kind: 'string', required: true },
];

export interface ChannelTable {
  /** Channels whose required properties all have a value, in device-tree order. */
  channels: Channel[];
  findings: Finding[];
  /** Number of channels the node describes (`channel-num` cells). */
  count: number;
}

/** `source` (the file name), when given, is recorded in each finding for formatFinding. */
export function readChannelTable(node: DtNode, source?: string): ChannelTable {
  const findings: Finding[] = [];
  if (!isEnabled(node)) {
    findings.push({
      severity: 'warning',
      property: 'status',
      message: `node ${node.path} has status "${readString(node.props.get('status')) ?? '?'}": the board driver does not bind to it`,
    });
  }

  const numRaw = node.props.get('channel-num');
  if (numRaw === undefined) {
    findings.push({ severity: 'error', property: 'channel-num', message: `required property missing in ${node.path}` });
    return { channels: [], findings: withFile(findings, source), count: 0 };
  }
  const count = numRaw.length % 4 === 0 ? numRaw.length / 4 : -1;
  if (count <= 0) {
    findings.push({
      severity: 'error',
      property: 'channel-num',
      message: count === 0 ? 'is empty: no channels' : `is ${numRaw.length} bytes, not a whole number of 32-bit cells`,
    });
    return { channels: [], findings: withFile(findings, source), count: 0 };
  }

  // Names first, so that every other finding can name its channel.
  const names = readStringList(node.props.get('channel-name') ?? new Uint8Array()) ?? [];
  const channelRef = (index: number): { index: number; name?: string } =>
    names[index] === undefined ? { index } : { index, name: names[index] };

  const values = new Map<string, readonly (number | bigint | string)[]>();
  for (const spec of CHANNEL_PROPERTIES) {
    const raw = node.props.get(spec.property);
    if (raw === undefined) {
      if (spec.required) {
        findings.push({ severity: 'error', property: spec.property, message: `required property missing in ${node.path}` });
      }
      continue;
    }
    const decoded = decode(spec, raw, findings);
    if (decoded === null) continue;
    values.set(spec.property, decoded);
    checkLength(spec, decoded.length, count, findings, channelRef);
  }

  const channels: Channel[] = [];
  for (let index = 0; index < count; index++) {
    const get = <T extends number | bigint | string>(property: string): T | undefined =>
      values.get(property)?.[index] as T | undefined;
    const required = CHANNEL_PROPERTIES.filter((s) => s.required).every((s) => get(s.property) !== undefined);
    if (!required) continue;
    const pool = get<bigint>('data-buffer-pool');
    channels.push({
      index,
      role: get<number>('rpmsg-role')!,
      inputMsgirq: get<number>('input-msgirq-num'),
      outputMsgirq: get<number>('output-msgirq-num')!,
      inputDstCpu: get<number>('input-dstcpu-id'),
      outputDstCpu: get<number>('output-dstcpu-id'),
      channel: get<number>('channel-num')!,
      src: get<number>('channel-src')!,
      dst: get<number>('channel-dst')!,
      name: get<string>('channel-name')!,
      ethEndpoint: get<number>('eth-dev-endpoints')!,
      miscEndpoint: get<number>('misc-dev-endpoints')!,
      rxVring: get<bigint>('shmem-rx-vring')!,
      txVring: get<bigint>('shmem-tx-vring')!,
      // The driver treats a zero pool address as "no pool offered" and allocates buffers itself.
      dataBufferPool: pool === undefined || pool === 0n ? undefined : pool,
      numBufs: get<number>('rpmsg-num-bufs') ?? DEFAULT_NUM_BUFS,
      bufSize: get<number>('rpmsg-buf-size') ?? DEFAULT_BUF_SIZE,
    });
  }
  return { channels, findings: withFile(findings, source), count };
}

function withFile(findings: Finding[], file: string | undefined): Finding[] {
  return file === undefined ? findings : findings.map((f) => ({ ...f, file }));
}

function decode(spec: PropertySpec, raw: Uint8Array, findings: Finding[]): readonly (number | bigint | string)[] | null {
  const bad = (message: string): null => {
    findings.push({ severity: 'error', property: spec.property, message });
    return null;
  };
  if (spec.kind === 'string') {
    return readStringList(raw) ?? bad('is not a list of NUL-terminated UTF-8 strings');
  }
  const cells = readU32Cells(raw);
  if (cells === null) return bad(`is ${raw.length} bytes, not a whole number of 32-bit cells`);
  if (spec.kind === 'u32') return cells;
  if (cells.length % 2 !== 0) {
    return bad(`has ${cells.length} cells: 64-bit addresses take two cells each (<high low>), so the count must be even`);
  }
  return readU64Values(raw);
}

function checkLength(
  spec: PropertySpec,
  length: number,
  count: number,
  findings: Finding[],
  channelRef: (index: number) => { index: number; name?: string },
): void {
  const unit = spec.kind === 'string' ? 'strings' : spec.kind === 'u64' ? '64-bit values' : 'cells';
  const have = spec.kind === 'u64' ? `${length} ${unit} (${length * 2} cells)` : `${length} ${unit}`;
  if (length < count) {
    const missing = Array.from({ length: count - length }, (_, i) => length + i);
    const list = missing.length > 3 ? `${missing[0]}..${missing[missing.length - 1]}` : missing.join(', ');
    findings.push({
      severity: spec.required ? 'error' : 'warning',
      property: spec.property,
      channel: channelRef(length),
      message: spec.required
        ? `has ${have} for ${count} channels (channel-num has ${count} cells): channel ${list} ${missing.length > 1 ? 'have' : 'has'} no value and the board driver refuses to probe`
        : `has ${have} for ${count} channels: channel ${list} ${missing.length > 1 ? 'use' : 'uses'} the driver's default`,
    });
  } else if (length > count) {
    const extra = length - count;
    findings.push({
      severity: 'warning',
      property: spec.property,
      message: `has ${have} for ${count} channels (channel-num has ${count} cells): the last ${extra === 1 ? 'one is' : `${extra} are`} ignored`,
    });
  }
}
