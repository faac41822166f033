// Framing in the plan: `framing: raw | frag` globally, per channel and from `up --framing`, and the MTU
// rules that go with it (raw: buffer − 30 at most; frag: 1500 by default, up to 9000).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ipv6Findings } from '../../../src/channels/ipv6.js';
import { loadPlan } from '../../../src/channels/plan.js';
import { UserError } from '../../../src/util/errors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// The board's table without its includes: these configs carry no deviceTreeIncludes.
const lanta = join(root, 'test/fixtures/dts/lanta-flat.dts');
const scratch = mkdtempSync(join(tmpdir(), 'rpmsg-eth-plan-framing-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function configFile(text: string): string {
  const file = join(scratch, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('framing in the plan', () => {
  it('is raw with the buffer MTU by default', async () => {
    const { plans } = await loadPlan({ deviceTree: lanta });
    expect(plans.every((p) => p.framing === 'raw')).toBe(true);
    expect(plans.map((p) => p.mtu)).toEqual([8162, ...Array<number>(16).fill(482)]);
  });

  it('frag globally: MTU 1500 over 512-byte buffers, one fragment payload (8146) over 8192-byte ones; no IPv6 warning', async () => {
    const loaded = await loadPlan({ deviceTree: lanta, configPath: configFile('framing: frag\n') });
    expect(loaded.plans.every((p) => p.framing === 'frag')).toBe(true);
    expect(loaded.plans.map((p) => p.mtu)).toEqual([8146, ...Array<number>(16).fill(1500)]);
    expect(ipv6Findings(loaded.plans)).toEqual([]);
    expect(ipv6Findings((await loadPlan({ deviceTree: lanta })).plans)).toHaveLength(1);
  });

  it('per channel: frag with a configured MTU up to 9000, the other channels keep raw', async () => {
    const { plans } = await loadPlan({ deviceTree: lanta, configPath: configFile('channels:\n  "3": { framing: frag, mtu: 9000 }\n  "4": { framing: frag }\n') });
    expect(plans[3]).toMatchObject({ framing: 'frag', mtu: 9000, maxPayload: 496 });
    expect(plans[4]).toMatchObject({ framing: 'frag', mtu: 1500 });
    expect(plans[5]).toMatchObject({ framing: 'raw', mtu: 482 });
  });

  it('refuses an MTU above 9000 with frag, and above the buffer with raw, naming the key', async () => {
    const err = async (text: string) => {
      try {
        await loadPlan({ deviceTree: lanta, configPath: configFile(text) });
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(await err('channels:\n  "3": { framing: frag, mtu: 9001 }\n')).toMatch(/channels\.3\.mtu.*9001 is above 9000/);
    expect(await err('channels:\n  "3": { mtu: 1500 }\n')).toMatch(/channels\.3\.mtu.*1500 is above 482/);
  });

  it('rejects an unknown framing name', async () => {
    await expect(loadPlan({ deviceTree: lanta, configPath: configFile('framing: fragment\n') })).rejects.toThrow(/framing/);
  });

  it('`up --framing` overrides the global and the per-channel keys for every channel', async () => {
    const cfg = configFile('framing: raw\nchannels:\n  "3": { framing: raw, mtu: 400 }\n');
    const frag = await loadPlan({ deviceTree: lanta, configPath: cfg, framing: 'frag' });
    expect(frag.plans.every((p) => p.framing === 'frag')).toBe(true);
    expect(frag.plans[3]?.mtu).toBe(400); // a configured MTU still holds
    expect(frag.plans[4]?.mtu).toBe(1500);
    const raw = await loadPlan({ deviceTree: lanta, configPath: configFile('framing: frag\n'), framing: 'raw' });
    expect(raw.plans.every((p) => p.framing === 'raw' && p.mtu <= p.maxPayload - 14)).toBe(true);
  });
});
