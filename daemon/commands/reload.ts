// `rpmsg-eth reload`: make the running daemon re-read its config and device tree (same as SIGHUP).
import type { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import { clientCommand, clientSocket, type ClientOptions } from './config-option.js';

export function reloadCommand(): Command {
  return clientCommand('reload')
    .description(
      'Re-read the config and the device tree in the running daemon: added channels come up, removed ones go ' +
        'down, changed addresses and MTUs are applied; untouched channels keep flowing. An invalid config is ' +
        'rejected with the reason and the running setup stays. The daemon looks for its config in the same ' +
        'order as at start (see `up --help`).',
    )
    .option('--json', 'machine-readable output')
    .action(async (o: ClientOptions & { json?: boolean }) => {
      const r = await controlRequest(clientSocket(o), { cmd: 'reload' }, 60_000);
      if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      const list = (ns: number[]) => (ns.length ? ns.join(',') : '-');
      process.stdout.write(
        `reloaded: added ${list(r.added)}; removed ${list(r.removed)}; changed ${list(r.changed)}; ` +
          `restarted ${list(r.restarted)}; unchanged ${r.unchanged.length}\n`,
      );
    });
}
