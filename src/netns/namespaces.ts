// Network namespaces the daemon uses: created when missing, and removed again only if it created them.
import { existsSync } from 'node:fs';
import { ip } from './ip.js';

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export class OwnedNamespaces {
  private readonly created: string[] = [];

  /** Makes sure `name` exists; remembers it for removal if this call created it. */
  async ensure(name: string): Promise<boolean> {
    if (netnsExists(name)) return false;
    await ip(['netns', 'add', name]);
    this.created.push(name);
    await ip(['link', 'set', 'lo', 'up'], name);
    return true;
  }

  owns(name: string): boolean {
    return this.created.includes(name);
  }

  /** Deletes every namespace this instance created; interfaces inside go with them. */
  async removeAll(): Promise<string[]> {
    const errors: string[] = [];
    while (this.created.length > 0) {
      const name = this.created.pop() as string;
      try {
        await ip(['netns', 'delete', name]);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return errors;
  }
}
