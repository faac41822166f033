// Runs iproute2 for the configuration steps that are not on the data path (addresses, namespaces).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UserError } from '../util/errors.js';

const execFileAsync = promisify(execFile);

/** `ip [-n NETNS] ARGS...`; rejects with the command line and iproute2's own message. */
export async function ip(args: string[], netns?: string): Promise<string> {
  const full = netns ? ['-n', netns, ...args] : args;
  try {
    const { stdout } = await execFileAsync('ip', full, { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new UserError('the "ip" command (iproute2) is not installed', 1);
    const reason = (e.stderr ?? e.message).trim();
    throw new UserError(`ip ${full.join(' ')}: ${reason}`, 1);
  }
}
