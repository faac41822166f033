// Outside programs the tests run, and the Debian package of each: a missing one fails the test with the
// package to install (scripts/install-deps.sh installs them all), not with ENOENT from deep inside it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const TOOL_PACKAGES: Record<string, string> = {
  tshark: 'tshark',
  capinfos: 'wireshark-common',
  editcap: 'wireshark-common',
  tcpdump: 'tcpdump',
  ip: 'iproute2',
  tc: 'iproute2',
  ping: 'iputils-ping',
  dtc: 'device-tree-compiler',
  cc: 'build-essential',
  python3: 'python3',
  iperf3: 'iperf3',
  sysctl: 'procps',
  script: 'bsdutils',
  unshare: 'util-linux',
  mount: 'mount',
  'systemd-analyze': 'systemd',
};

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Throws, naming the Debian package to install, unless every command is on PATH. */
export function requireTools(...commands: string[]): void {
  const missing = commands.filter((c) => !onPath(c));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((c) => TOOL_PACKAGES[c] ?? `(the package providing ${c})`))];
  throw new Error(
    `this test runs ${missing.join(', ')}, which is not installed: apt-get install ${packages.join(' ')} ` +
      '(scripts/install-deps.sh installs every package the tests use)',
  );
}

/** The command itself, once it is known to be installed: execFileSync(tool('tshark'), ...). */
export function tool(command: string): string {
  requireTools(command);
  return command;
}
