// The options every command shares: -c/--config (found in the same order everywhere) and, for the
// commands that talk to the running daemon, where its control socket is.
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { CONFIG_ENV, SYSTEM_CONFIG, locateConfig } from '../../src/config/locate.js';
import { CONTROL_ENV, controlSocketPath } from '../../src/control/protocol.js';

export const CONFIG_OPTION_HELP =
  `config file (default: $${CONFIG_ENV}, else ${SYSTEM_CONFIG} if it exists, else the packaged config/rpmsg-eth.yaml)`;

export interface ClientOptions {
  config?: string;
  controlSocket?: string;
}

/** A command that talks to the running daemon: with -c/--config and --control-socket. */
export function clientCommand(name: string): Command {
  return new Command(name)
    .option('-c, --config <file>', `${CONFIG_OPTION_HELP}; its controlSocket names the daemon's socket`)
    .option('--control-socket <path>', `control socket of the daemon (default: $${CONTROL_ENV}, else the config's controlSocket, else /run/rpmsg-eth/control.sock)`);
}

/** The daemon's control socket: --control-socket, $RPMSG_ETH_CONTROL, the config's controlSocket, the default. */
export function clientSocket(o: ClientOptions): string {
  if (o.controlSocket !== undefined || process.env[CONTROL_ENV]) return controlSocketPath(o.controlSocket);
  return controlSocketPath(undefined, configuredSocket(locateConfig(o.config).path));
}

/**
 * The config's controlSocket. A client needs nothing else from the config, so a mistake elsewhere in it
 * (say, while it is being edited for a reload) must not keep `status` or `reload` from the daemon.
 */
function configuredSocket(path: string): string | undefined {
  try {
    return loadConfig(path).config.controlSocket;
  } catch (err) {
    if (!existsSync(path)) throw err;
    try {
      const data = parse(readFileSync(path, 'utf8')) as { controlSocket?: unknown } | null;
      return typeof data?.controlSocket === 'string' ? data.controlSocket : undefined;
    } catch {
      return undefined;
    }
  }
}
