// Network namespaces the daemon uses: created when missing, and removed again only if it created them.
// Each namespace it creates is recorded with its pid and the pid's start time under /run/rpmsg-eth/netns/,
// so the next start can tell a leftover of a crashed run (owner dead, or its pid now another process's:
// removed and made anew) from one somebody else made.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ip } from './ip.js';

const OWNER_DIR = '/run/rpmsg-eth/netns';

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

function ownerFile(name: string): string {
  return join(OWNER_DIR, `${name}.pid`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time (clock ticks after boot, /proc/PID/stat field 22), or undefined if it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The pid of the dead daemon that created `name`, if it is a leftover of a crashed run. */
export function leftoverOwner(name: string): number | undefined {
  if (!netnsExists(name)) return undefined;
  let record: string[];
  try {
    record = readFileSync(ownerFile(name), 'utf8').trim().split(/\s+/);
  } catch {
    return undefined; // not made by rpmsg-eth: leave it alone
  }
  const pid = Number(record[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  if (!processAlive(pid)) return pid;
  // Alive: still the daemon that made it only if the pid was not reused since (a record without a start
  // time, from an older version, is trusted as before).
  const started = record[1];
  return started !== undefined && processStartTime(pid) !== started ? pid : undefined;
}

export class OwnedNamespaces {
  private readonly created: string[] = [];

  /**
   * Makes sure `name` exists; remembers it for removal if this call created it. A leftover of a crashed
   * run is removed first (with whatever it still holds) and made anew. Returns the dead owner's pid then.
   */
  async ensure(name: string): Promise<{ created: boolean; replacedLeftoverOf?: number }> {
    const dead = leftoverOwner(name);
    if (dead !== undefined) await ip(['netns', 'delete', name]);
    if (netnsExists(name)) return { created: false };
    await ip(['netns', 'add', name]);
    this.created.push(name);
    mkdirSync(OWNER_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(ownerFile(name), `${process.pid} ${processStartTime(process.pid) ?? ''}\n`);
    await ip(['link', 'set', 'lo', 'up'], name);
    return dead === undefined ? { created: true } : { created: true, replacedLeftoverOf: dead };
  }


  /** Deletes every namespace this instance created; interfaces inside go with them. */
  async removeAll(): Promise<string[]> {
    const errors: string[] = [];
    while (this.created.length > 0) {
      const name = this.created.pop() as string;
      try {
        await ip(['netns', 'delete', name]);
        rmSync(ownerFile(name), { force: true });
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return errors;
  }
}
