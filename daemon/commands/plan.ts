// `rpmsg-eth plan [FILE]`: the interfaces the daemon would bring up, one row per channel.
import { Command } from 'commander';
import { formatFinding } from '../../src/channels/findings.js';
import { ipv6Findings } from '../../src/channels/ipv6.js';
import { loadPlan, type LoadedPlan } from '../../src/channels/plan.js';
import type { ChannelPlan } from '../../src/channels/types.js';
import { describeConfig } from '../../src/config/locate.js';
import { CONFIG_OPTION_HELP } from './config-option.js';
import { formatTable } from './table.js';

export interface PlanOptions {
  config?: string;
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

export function runPlan(file: string | undefined, opts: PlanOptions): LoadedPlan {
  return loadPlan({ deviceTree: file, configPath: opts.config });
}

export function planCommand(): Command {
  return new Command('plan')
    .description(
      'Show the network interface planned for each rpmsg channel: name, eth-dev endpoint, buffers, MTU ' +
        '(rpmsg-buf-size - 16 rpmsg header - 14 Ethernet header, lowered by the config if set) and addresses.',
    )
    .argument('[file]', "device tree (.dts, .dtb or /proc/device-tree directory); default: the config's deviceTree")
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', 'print an array of plan objects (channel, name, ifname, ethEndpoint, bufSize, numBufs, mtu, address, peerAddress, ...)')
    .addHelpText(
      'after',
      '\nThe files read and the warnings go to stderr. Exit status: 0 ok, 1 the table or config has errors, ' +
        '2 malformed input.\n\nExamples:\n  rpmsg-eth plan config/lanta.dts\n  rpmsg-eth plan -c /etc/rpmsg-eth/rpmsg-eth.yaml --json\n',
    )
    .action((file: string | undefined, opts: PlanOptions) => {
      const result = runPlan(file, opts);
      process.stderr.write(`config ${describeConfig({ path: result.configPath, source: result.configSource })}, device tree ${result.deviceTreePath}\n`);
      process.stdout.write(opts.json === true ? `${JSON.stringify(result.plans, null, 2)}\n` : formatPlanTable(result.plans));
      const up = result.plans.filter((p) => p.enabled);
      const findings = [...result.findings, ...ipv6Findings(up, { deviceTree: result.deviceTreePath, config: result.configPath })];
      for (const f of findings) process.stderr.write(`${formatFinding(f)}\n`);
    });
}
