// `rpmsg-eth plan [FILE]`: the interfaces the daemon would bring up, one row per channel.
import { Command } from 'commander';
import { formatFinding } from '../../src/channels/findings.js';
import { loadPlan, type LoadedPlan } from '../../src/channels/plan.js';
import type { ChannelPlan } from '../../src/channels/types.js';
import { includeOption } from './include-option.js';
import { formatTable } from './table.js';

export interface PlanOptions {
  config?: string;
  include?: string[];
  json?: boolean;
}

export function formatPlanTable(plans: readonly ChannelPlan[]): string {
  const head = ['CH', 'NAME', 'IFNAME', 'ETH-EP', 'BUFS', 'MTU', 'ADDRESS', 'PEER', 'STATE'];
  const rows = plans.map((p) => [
    String(p.channel),
    p.name,
    p.ifname,
    `0x${p.ethEndpoint.toString(16)}`,
    `${p.numBufs}x${p.bufSize}`,
    String(p.mtu),
    p.address,
    p.peerAddress,
    p.enabled ? 'enabled' : 'disabled',
  ]);
  return `${formatTable(head, rows)}\n`;
}

export function runPlan(file: string | undefined, opts: PlanOptions): Promise<LoadedPlan> {
  return loadPlan({ deviceTree: file, configPath: opts.config, includeDirs: opts.include });
}

export function planCommand(): Command {
  return new Command('plan')
    .description(
      'Show the network interface planned for each rpmsg channel: name, eth-dev endpoint, buffers, MTU ' +
        '(rpmsg-buf-size - 16 rpmsg header - 14 Ethernet header, lowered by the config if set) and addresses.',
    )
    .argument('[file]', "device tree (.dts, .dtb or /proc/device-tree directory); default: the config's deviceTree")
    .option('-c, --config <file>', 'daemon config (default: the packaged config/rpmsg-eth.yaml)')
    .addOption(includeOption())
    .option('--json', 'print an array of plan objects (channel, name, ifname, ethEndpoint, bufSize, numBufs, mtu, address, peerAddress, ...)')
    .addHelpText(
      'after',
      '\nWarnings go to stderr. Exit status: 0 ok, 1 the table or config has errors, 2 malformed input.\n\n' +
        'Examples:\n  rpmsg-eth plan config/lanta.dts\n  rpmsg-eth plan --config /etc/rpmsg-eth.yaml --json\n',
    )
    .action(async (file: string | undefined, opts: PlanOptions) => {
      const result = await runPlan(file, opts);
      process.stdout.write(opts.json === true ? `${JSON.stringify(result.plans, null, 2)}\n` : formatPlanTable(result.plans));
      for (const f of result.findings) process.stderr.write(`${formatFinding(f)}\n`);
    });
}
