// What a reload changes: the running channels' plans against the new ones, channel by channel. Pure: it
// decides, the daemon applies (daemon/reload.ts).
//   added      in the new plan only: brought up
//   removed    running, not in the new plan: taken down
//   changed    addresses or MTU only: applied in place, the data path untouched
//   restarted  what the ring or the interface's identity is made of changed: taken down and up again
//   unchanged  not touched at all
import type { ChannelPlan } from './types.js';

export interface PlanChange {
  channel: number;
  old: ChannelPlan;
  new: ChannelPlan;
  /** What differs, for the log: "address 169.254.103.1/24 -> 10.0.3.1/24". */
  details: string[];
}

export interface PlanDiff {
  added: ChannelPlan[];
  removed: ChannelPlan[];
  changed: PlanChange[];
  restarted: PlanChange[];
  unchanged: ChannelPlan[];
}

/** The fields of a plan whose change needs a restart: the endpoint, the ring, the interface's identity. */
const RING_FIELDS = ['name', 'ifname', 'ethEndpoint', 'remoteEndpoint', 'bufSize', 'numBufs', 'index', 'framing'] as const;

/** `running` and `wanted` by channel number; the result lists channels in ascending order. */
export function diffPlans(running: Iterable<ChannelPlan>, wanted: Iterable<ChannelPlan>): PlanDiff {
  const before = new Map([...running].map((p) => [p.channel, p]));
  const after = new Map([...wanted].map((p) => [p.channel, p]));
  const diff: PlanDiff = { added: [], removed: [], changed: [], restarted: [], unchanged: [] };
  for (const old of before.values()) if (!after.has(old.channel)) diff.removed.push(old);
  for (const plan of after.values()) {
    const old = before.get(plan.channel);
    if (!old) {
      diff.added.push(plan);
      continue;
    }
    const details = differences(old, plan);
    if (details.length === 0) diff.unchanged.push(plan);
    else if (needsRestart(old, plan)) diff.restarted.push({ channel: plan.channel, old, new: plan, details });
    else diff.changed.push({ channel: plan.channel, old, new: plan, details });
  }
  const byChannel = (a: { channel: number }, b: { channel: number }) => a.channel - b.channel;
  for (const list of Object.values(diff) as Array<Array<{ channel: number }>>) list.sort(byChannel);
  return diff;
}

function needsRestart(a: ChannelPlan, b: ChannelPlan): boolean {
  // frag's frame limit is fixed when its link is built: its MTU is part of the ring.
  return RING_FIELDS.some((k) => a[k] !== b[k]) || (a.framing === 'frag' && a.mtu !== b.mtu);
}

/** Every field that differs, "field old -> new". */
function differences(a: ChannelPlan, b: ChannelPlan): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as Array<keyof ChannelPlan>;
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k} ${String(a[k])} -> ${String(b[k])}`);
}
