// A private /etc for one command: the command runs in its own mount namespace, where an overlay over
// /etc holds the given files under /etc/rpmsg-eth. The host's /etc is never written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools } from './tools.js';

/**
 * Command prefix: `[...privateEtc(files, dir), cmd, ...args]` runs cmd with /etc/rpmsg-eth/NAME holding
 * files[NAME]. `dir` (the caller's scratch directory, which it removes) keeps the files meanwhile.
 */
export function privateEtc(files: Record<string, string>, dir: string): string[] {
  requireTools('unshare', 'mount');
  const src = join(dir, 'etc-rpmsg-eth');
  mkdirSync(src);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(src, name), text);
  // The overlay's upper layer lives on a tmpfs of the namespace: gone when the command ends.
  const layers = join(src, '.layers');
  const script =
    `set -e; mkdir -p ${layers}; mount -t tmpfs tmpfs ${layers}; mkdir ${layers}/upper ${layers}/work; ` +
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${layers}/upper,workdir=${layers}/work /etc; ` +
    `rm -rf /etc/rpmsg-eth; mkdir /etc/rpmsg-eth; cp ${src}/* /etc/rpmsg-eth/; exec "$@"`;
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'private-etc'];
}
