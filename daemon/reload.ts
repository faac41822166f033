// A reload as a transaction. The new plan has been read and checked (names, addresses, device tree);
// here it is applied to the running channels:
//   1. decide (diffPlans): added, removed, changed in place, restarted, unchanged; a channel that is down
//      or whose interface is gone cannot change in place and is started anew;
//   2. prepare: create the new interfaces (new names) before any running channel is touched — a name
//      the kernel refuses or another process holds rejects the reload here, with nothing changed;
//   3. apply, remembering how to undo each step: stop the removed and restarted channels, change the
//      others in place, start the restarted and added ones. If a step fails, the steps before it are
//      undone in reverse order: the channels it touched are as they were.
// The log names every channel and what changed in it.
import { diffPlans, type PlanChange } from '../src/channels/diff.js';
import type { ChannelPlan } from '../src/channels/types.js';
import type { ReloadResult } from '../src/control/protocol.js';
import { interfaceExists } from '../src/iface/tap.js';
import type { Logger } from '../src/log.js';
import { UserError } from '../src/util/errors.js';
import type { DaemonChannel as Channel } from './channel.js';

export interface ReloadTarget {
  /** The daemon's channels by number (running or down); this updates it as it goes. */
  channels: Map<number, Channel>;
  newChannel(plan: ChannelPlan): Channel;
  netns: string | undefined;
  log: Logger;
}

/** A reload that failed while it was applied: `restored` says whether every touched channel is back. */
export class ReloadFailed extends UserError {
  constructor(
    message: string,
    readonly restored: boolean,
  ) {
    super(message, 1);
  }
}

interface Step {
  /** What undoing it does, for the log: "rpmsg2 back up". */
  undoes: string;
  undo(): Promise<void>;
}

export async function applyReload(target: ReloadTarget, wanted: readonly ChannelPlan[]): Promise<ReloadResult> {
  const { channels, log } = target;
  // A netdev channel whose interface vanished since its monitor's last look is waiting, not broken:
  // restarting it would fail (no interface) and leave it down for good.
  for (const c of channels.values()) c.refresh?.();
  const diff = diffPlans([...channels.values()].map((c) => c.plan), wanted);
  // A channel that is down (its interface was deleted, it could not be started) starts anew, unless it
  // is waiting to come back by itself.
  const broken = new Set(
    [...diff.changed.map((c) => c.old), ...diff.unchanged]
      .filter((p) => {
        const channel = channels.get(p.channel);
        return !channel?.waiting && (channel?.down != null || !interfaceExists(p.ifname, target.netns));
      })
      .map((p) => p.channel),
  );
  const wasDown = (p: ChannelPlan) => `was down: ${channels.get(p.channel)?.down ?? `${p.ifname} is gone`}`;
  diff.restarted.push(
    ...diff.changed.filter((c) => broken.has(c.channel)).map((c) => ({ ...c, details: [...c.details, wasDown(c.old)] })),
    ...diff.unchanged.filter((p) => broken.has(p.channel)).map((p) => ({ channel: p.channel, old: p, new: p, details: [wasDown(p)] })),
  );
  diff.changed = diff.changed.filter((c) => !broken.has(c.channel));
  diff.unchanged = diff.unchanged.filter((p) => !broken.has(p.channel));
  diff.restarted.sort((a, b) => a.channel - b.channel);

  // Prepare: the interfaces whose names no running channel holds.
  const ours = new Set([...channels.values()].map((c) => c.plan.ifname));
  const starting = [...diff.restarted.map((r) => r.new), ...diff.added].map((plan) => target.newChannel(plan));
  try {
    for (const c of starting) if (!ours.has(c.plan.ifname)) c.prepare();
  } catch (err) {
    for (const c of starting) c.discard();
    throw err;
  }

  const done: Step[] = [];
  try {
    for (const plan of [...diff.removed, ...diff.restarted.map((r) => r.old)]) {
      const old = channels.get(plan.channel) as Channel;
      const wasUp = old.down === null;
      await old.stop(wasUp ? (diff.removed.includes(plan) ? 'removed by a reload' : 'restarting') : undefined);
      channels.delete(plan.channel);
      done.push({
        undoes: wasUp ? `${plan.ifname} back up` : `${plan.ifname} down as before`,
        undo: async () => {
          if (!wasUp) return void channels.set(plan.channel, old);
          const again = target.newChannel(plan);
          await again.start();
          channels.set(plan.channel, again);
        },
      });
    }
    for (const change of diff.changed) {
      const channel = channels.get(change.channel) as Channel;
      await channel.applyPlan(change.new);
      done.push({ undoes: `${change.old.ifname} as it was`, undo: () => channel.applyPlan(change.old) });
    }
    for (const channel of starting) {
      await channel.start();
      channels.set(channel.plan.channel, channel);
      done.push({
        undoes: `${channel.plan.ifname} removed`,
        undo: async () => {
          await channel.stop('removed: a reload was undone');
          channels.delete(channel.plan.channel);
        },
      });
    }
  } catch (err) {
    for (const c of starting) c.discard();
    throw await undo(done, (err as Error).message, log);
  }

  const result: ReloadResult = {
    added: diff.added.map((p) => p.channel),
    removed: diff.removed.map((p) => p.channel),
    changed: diff.changed.map((c) => c.channel),
    restarted: diff.restarted.map((c) => c.channel),
    unchanged: diff.unchanged.map((p) => p.channel),
  };
  log.info({ ...result, changes: Object.fromEntries([...diff.changed, ...diff.restarted].map((c) => [c.channel, c.details])) }, `reloaded: ${summary(diff)}`);
  return result;
}

/** Undoes the steps, last first; the error to throw says what happened to each. */
async function undo(done: Step[], reason: string, log: Logger): Promise<ReloadFailed> {
  const undone: string[] = [];
  const failed: string[] = [];
  for (const step of done.reverse()) {
    try {
      await step.undo();
      undone.push(step.undoes);
    } catch (err) {
      failed.push(`${step.undoes}: ${(err as Error).message}`);
      log.error({ err: (err as Error).message }, `undoing the reload: could not get ${step.undoes}: ${(err as Error).message}`);
    }
  }
  if (failed.length) return new ReloadFailed(`${reason}; undone: ${undone.join(', ') || '-'}; could not undo: ${failed.join('; ')}`, false);
  return new ReloadFailed(undone.length ? `${reason} (undone: ${undone.join(', ')})` : reason, true);
}

/** "added 4 (rpmsg4); removed 2 (rpmsg2); changed 3 (rpmsg3: mtu 482 -> 400); restarted -; unchanged 1". */
function summary(diff: ReturnType<typeof diffPlans>): string {
  const names = (plans: ChannelPlan[]) => (plans.length ? plans.map((p) => `${p.channel} (${p.ifname})`).join(', ') : '-');
  const changes = (list: PlanChange[]) => (list.length ? list.map((c) => `${c.channel} (${c.new.ifname}: ${c.details.join(', ')})`).join(', ') : '-');
  return `added ${names(diff.added)}; removed ${names(diff.removed)}; changed ${changes(diff.changed)}; restarted ${changes(diff.restarted)}; unchanged ${diff.unchanged.length}`;
}
