// A problem found in the channel table or the interface plan, and its one-line rendering.

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  /** The device-tree property (e.g. "channel-dst") or config path (e.g. "channels.3.mtu") at fault. */
  property: string;
  /** The channel concerned, when the finding is about one channel. */
  channel?: { index: number; name?: string };
  message: string;
  /** The file the finding is about, when findings from several files are mixed (device tree, config). */
  file?: string;
}

/** `lanta.dts: error: channel-dst, channel #3 "nokia-swm1-channel": <message>` (#3 = position in the table) */
export function formatFinding(finding: Finding, source = finding.file ?? ''): string {
  let where = finding.property;
  if (finding.channel !== undefined) {
    where += `, channel #${finding.channel.index}`;
    if (finding.channel.name !== undefined) where += ` "${finding.channel.name}"`;
  }
  return `${finding.file ?? source}: ${finding.severity}: ${where}: ${finding.message}`;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
