// `rpmsg-eth check FILE`: validates the board's rpmsg channel table in a .dts, .dtb or
// /proc/device-tree directory, the way a board engineer runs it before flashing.
import { Command } from 'commander';
import { formatFinding, hasErrors, type Finding } from '../../src/channels/findings.js';
import { ipv6Findings } from '../../src/channels/ipv6.js';
import { planChannelsWithFindings } from '../../src/channels/plan.js';
import { readChannelTable } from '../../src/channels/table.js';
import type { Channel } from '../../src/channels/types.js';
import { validateChannels } from '../../src/channels/validate.js';
import { parseConfig } from '../../src/config/load.js';
import { detectFormat, findRpmsgNode, loadDeviceTree } from '../../src/devicetree/load.js';

export interface CheckOptions {
  strict?: boolean;
  json?: boolean;
}

export interface CheckReport {
  file: string;
  format: string;
  node: string;
  channelCount: number;
  errors: number;
  warnings: number;
  findings: Finding[];
  channels: Channel[];
}

/** Reads and validates; throws DeviceTreeError (exit 2) on malformed input. */
export function checkDeviceTree(file: string): CheckReport {
  const format = detectFormat(file);
  const node = findRpmsgNode(loadDeviceTree(file), file);
  const table = readChannelTable(node, file);
  const findings = [...table.findings, ...validateChannels(table.channels)];
  // The MTUs the default config gives (raw framing): the same IPv6 summary as `plan` and `up`.
  if (!hasErrors(findings)) {
    const { plans } = planChannelsWithFindings(table.channels, parseConfig('', 'defaults'));
    findings.push(...ipv6Findings(plans, { deviceTree: file }));
  }
  return {
    file,
    format,
    node: node.path,
    channelCount: table.count,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    findings,
    channels: table.channels,
  };
}

/** Exit code of `check`: 1 on errors, or on warnings with --strict; else 0. */
export function checkExitCode(report: CheckReport, strict: boolean): number {
  return hasErrors(report.findings) || (strict && report.warnings > 0) ? 1 : 0;
}

export function formatCheckReport(report: CheckReport): string {
  const lines = report.findings.map((f) => formatFinding(f, report.file));
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    `${report.file}: ${report.node}: ${plural(report.channelCount, 'channel')}, ` +
      `${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')}`,
  );
  return `${lines.join('\n')}\n`;
}

/** JSON with 64-bit addresses as hex strings (JSON has no 64-bit integers). */
export function checkReportJson(report: CheckReport): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2)}\n`;
}

export function checkCommand(): Command {
  return new Command('check')
    .description(
      'Validate the rpmsg channel table of a device tree: required properties and array lengths, channel ' +
        'names, buffer counts and sizes, overlapping shared-memory windows, duplicate channels and endpoints.',
    )
    .argument('<file>', 'device tree: a .dts file, a .dtb blob, or a directory in /proc/device-tree layout')
    .option('--strict', 'treat warnings as errors (exit 1)')
    .option('--json', 'print the report (findings and the channel table) as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 the table is usable (warnings allowed), 1 errors (or warnings with --strict),\n' +
        '2 the input is malformed or unreadable.\n\nExamples:\n  rpmsg-eth check config/lanta.dts\n' +
        '  rpmsg-eth check --strict /proc/device-tree\n',
    )
    .action((file: string, opts: CheckOptions) => {
      const report = checkDeviceTree(file);
      process.stdout.write(opts.json === true ? checkReportJson(report) : formatCheckReport(report));
      process.exitCode = checkExitCode(report, opts.strict === true);
    });
}
