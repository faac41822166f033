// Which config file to read, the way a system daemon finds its own: independent of the working
// directory, first match wins.
//   1. --config FILE            (relative to the working directory)
//   2. $RPMSG_ETH_CONFIG        (relative to the working directory)
//   3. /etc/rpmsg-eth/rpmsg-eth.yaml, when it exists
//   4. the packaged config/rpmsg-eth.yaml
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultConfigPath } from './load.js';

export const SYSTEM_CONFIG = '/etc/rpmsg-eth/rpmsg-eth.yaml';
export const CONFIG_ENV = 'RPMSG_ETH_CONFIG';

export type ConfigSource = 'option' | 'environment' | 'system' | 'packaged';

export interface ConfigLocation {
  /** Absolute path of the file to read. */
  path: string;
  source: ConfigSource;
}

export interface LocateOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the system-wide config lives (tests point it elsewhere). */
  systemPath?: string;
  /** The packaged config (default: config/rpmsg-eth.yaml of this package). */
  packagedPath?: () => string;
}

export function locateConfig(explicit: string | undefined, opts: LocateOptions = {}): ConfigLocation {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  if (explicit !== undefined && explicit !== '') return { path: resolve(cwd, explicit), source: 'option' };
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(cwd, fromEnv), source: 'environment' };
  const system = opts.systemPath ?? SYSTEM_CONFIG;
  if (existsSync(system)) return { path: system, source: 'system' };
  return { path: (opts.packagedPath ?? defaultConfigPath)(), source: 'packaged' };
}

/** "/etc/rpmsg-eth/rpmsg-eth.yaml (system)", for logs and messages. */
export function describeConfig(location: ConfigLocation): string {
  const why: Record<ConfigSource, string> = {
    option: '--config',
    environment: `$${CONFIG_ENV}`,
    system: 'system config',
    packaged: 'packaged default',
  };
  return `${location.path} (${why[location.source]})`;
}
