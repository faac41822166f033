// One fixture per validation rule, each breaking exactly that rule of a clean three-channel table:
// `check` must report exactly one finding, with the right severity, property and channel.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatFinding, type Finding } from '../../../src/channels/findings.js';
import { readChannelTable } from '../../../src/channels/table.js';
import { validateChannels } from '../../../src/channels/validate.js';
import { findRpmsgNode, loadDeviceTree } from '../../../src/devicetree/load.js';

const fixtures = fileURLToPath(new URL('../../fixtures/dts/', import.meta.url));

async function check(file: string): Promise<Finding[]> {
  const node = findRpmsgNode((await loadDeviceTree(file)).root, file);
  const table = readChannelTable(node, file);
  return [...table.findings, ...validateChannels(table.channels)];
}

interface Expect {
  severity: 'error' | 'warning';
  property: string;
  channel?: { index: number; name: string };
  message: RegExp;
}

const NAME32 = 'ch-eqpthwa-xxxxxxxxxxxxxxxxxxxxx';
const cases: Record<string, Expect> = {
  'missing-required': { severity: 'error', property: 'channel-src', message: /required property missing/ },
  'short-required': {
    severity: 'error',
    property: 'channel-dst',
    channel: { index: 2, name: 'ch-redundancy' },
    message: /has 2 cells for 3 channels.*channel 2 has no value/,
  },
  'short-optional': {
    severity: 'warning',
    property: 'rpmsg-buf-size',
    channel: { index: 2, name: 'ch-redundancy' },
    message: /has 2 cells for 3 channels.*default/,
  },
  'long-array': { severity: 'warning', property: 'channel-dst', message: /has 4 cells for 3 channels.*last one is ignored/ },
  'name-32-bytes': {
    severity: 'error',
    property: 'channel-name',
    channel: { index: 1, name: NAME32 },
    message: /is 32 bytes/,
  },
  'name-31-bytes': {
    severity: 'warning',
    property: 'channel-name',
    channel: { index: 1, name: NAME32.slice(0, 31) },
    message: /is 31 bytes.*board driver rejects/,
  },
  'num-bufs-zero': { severity: 'error', property: 'rpmsg-num-bufs', channel: { index: 1, name: 'ch-eqpthwa' }, message: /is 0/ },
  'num-bufs-odd': { severity: 'error', property: 'rpmsg-num-bufs', channel: { index: 2, name: 'ch-redundancy' }, message: /511, an odd number/ },
  'num-bufs-not-power-of-two': {
    severity: 'error',
    property: 'rpmsg-num-bufs',
    channel: { index: 1, name: 'ch-eqpthwa' },
    message: /384: each ring gets 192 entries.*power of two/,
  },
  'buf-size-too-small': {
    severity: 'error',
    property: 'rpmsg-buf-size',
    channel: { index: 2, name: 'ch-redundancy' },
    message: /is 40:.*Ethernet header/,
  },
  'overlap-within-channel': {
    severity: 'error',
    property: 'shmem-tx-vring',
    channel: { index: 1, name: 'ch-eqpthwa' },
    message: /tx vring \[0xB8211000, 0xB8213806\) overlaps the rx vring \[0xB8210000, 0xB8212806\) of the same channel/,
  },
  'overlap-across-channels': {
    severity: 'error',
    property: 'shmem-rx-vring',
    channel: { index: 2, name: 'ch-redundancy' },
    message: /rx vring \[0xB8250000, 0xB8252806\) overlaps the data pool \[0xB8220000, 0xB8260000\) of channel #1 "ch-eqpthwa"/,
  },
  'duplicate-channel-num': {
    severity: 'error',
    property: 'channel-num',
    channel: { index: 2, name: 'ch-redundancy' },
    message: /channel number 1 is also used by channel #1/,
  },
  'duplicate-name': {
    severity: 'error',
    property: 'channel-name',
    channel: { index: 2, name: 'ch-eqpthwa' },
    message: /name "ch-eqpthwa" is also used by channel #1/,
  },
  'duplicate-eth-endpoint': {
    severity: 'error',
    property: 'eth-dev-endpoints',
    channel: { index: 2, name: 'ch-redundancy' },
    message: /0x20 is also the eth-dev-endpoints of channel #1/,
  },
  'endpoint-eth-equals-misc': {
    severity: 'error',
    property: 'misc-dev-endpoints',
    channel: { index: 1, name: 'ch-eqpthwa' },
    message: /0x20 is also the eth-dev-endpoints of channel #1/,
  },
  'role-invalid': { severity: 'error', property: 'rpmsg-role', channel: { index: 2, name: 'ch-redundancy' }, message: /is 3/ },
  'u64-odd-cells': { severity: 'error', property: 'data-buffer-pool', message: /5 cells.*two cells each/ },
  'partial-cells': { severity: 'error', property: 'input-msgirq-num', message: /10 bytes, not a whole number of 32-bit cells/ },
  'status-disabled': { severity: 'warning', property: 'status', message: /"disabled".*does not bind/ },
};

describe('validation rules, one fixture each', () => {
  it('the clean base table has no findings at all', async () => {
    expect(await check(`${fixtures}three-channels.dts`)).toEqual([]);
  });

  for (const [rule, want] of Object.entries(cases)) {
    it(`${rule}: exactly one ${want.severity} on ${want.property}`, async () => {
      const file = `${fixtures}rules/${rule}.dts`;
      const findings = await check(file);
      expect(findings.map((f) => formatFinding(f, file))).toHaveLength(1);
      const [f] = findings as [Finding];
      expect(f.severity).toBe(want.severity);
      expect(f.property).toBe(want.property);
      expect(f.channel).toEqual(want.channel);
      expect(f.message).toMatch(want.message);
      // The rendered line names the file, the property and (when there is one) the channel.
      const line = formatFinding(f, file);
      expect(line.startsWith(`${file}: ${want.severity}: ${want.property}`)).toBe(true);
      if (want.channel !== undefined) expect(line).toContain(`channel #${want.channel.index} "${want.channel.name}"`);
    });
  }
});
