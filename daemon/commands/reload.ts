// `rpmsg-eth reload`: make the running daemon re-read its config and device tree (same as SIGHUP).
import { Command } from 'commander';
import { controlRequest } from '../../src/control/client.js';
import { controlSocketPath } from '../../src/control/protocol.js';
import type { ReloadResult } from '../lifecycle.js';

export function reloadCommand(): Command {
  return new Command('reload')
    .description(
      'Re-read the config and the device tree in the running daemon: added channels come up, removed ones go ' +
        'down, changed addresses and MTUs are applied; untouched channels keep flowing. An invalid config is ' +
        'rejected with the reason and the running setup stays.',
    )
    .option('--json', 'machine-readable output')
    .option('--control-socket <path>', 'control socket of the daemon')
    .action(async (o: { json?: boolean; controlSocket?: string }) => {
      const r = (await controlRequest(controlSocketPath(o.controlSocket), { cmd: 'reload' }, 60_000)) as ReloadResult;
      if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      const list = (ns: number[]) => (ns.length ? ns.join(',') : '-');
      process.stdout.write(
        `reloaded: added ${list(r.added)}; removed ${list(r.removed)}; changed ${list(r.changed)}; ` +
          `restarted ${list(r.restarted)}; unchanged ${r.unchanged.length}\n`,
      );
    });
}
