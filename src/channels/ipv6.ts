// IPv6 needs an MTU of at least 1280 (RFC 8200). Channels below it are reported in one summary line
// naming them all, with the remedy, instead of one identical warning per channel:
//   rpmsg1..rpmsg16 (16 channels): MTU 482 < 1280, IPv6 cannot run; framing: frag gives 1500
import type { Finding } from './findings.js';
import { FRAG_DEFAULT_MTU } from './plan.js';
import type { ChannelPlan } from './types.js';
import { ETH_HEADER_SIZE } from './validate.js';

export const IPV6_MIN_MTU = 1280;

/** One warning for every planned channel whose MTU is below 1280, or none. */
export function ipv6Findings(plans: readonly ChannelPlan[], sources: { deviceTree?: string; config?: string } = {}): Finding[] {
  const below = plans.filter((p) => p.mtu < IPV6_MIN_MTU);
  if (below.length === 0) return [];
  // The buffers set the MTU unless the config lowered it (raw), or set it at all (frag defaults to 1500).
  const configured = below.filter((p) => p.framing === 'frag' || p.mtu < p.maxPayload - ETH_HEADER_SIZE);
  const bufferBound = below.filter((p) => !configured.includes(p));
  const mtus = below.map((p) => p.mtu);
  const lo = Math.min(...mtus);
  const hi = Math.max(...mtus);
  const remedies: string[] = [];
  if (bufferBound.length) remedies.push(`framing: frag gives ${FRAG_DEFAULT_MTU}`);
  if (configured.length) remedies.push(`${configured.map((p) => `channels.${p.channel}.mtu`).join(', ')} set below ${IPV6_MIN_MTU}`);
  const count = `${below.length} channel${below.length === 1 ? '' : 's'}`;
  const fromConfig = bufferBound.length === 0;
  const file = fromConfig ? sources.config : sources.deviceTree;
  return [
    {
      severity: 'warning',
      property: fromConfig ? (configured.length === 1 ? `channels.${configured[0]!.channel}.mtu` : 'channels.*.mtu') : 'rpmsg-buf-size',
      message:
        `${interfaceList(below.map((p) => p.ifname))} (${count}): MTU ${lo === hi ? lo : `${lo}..${hi}`} < ${IPV6_MIN_MTU}, ` +
        `IPv6 cannot run; ${remedies.join('; ')}`,
      ...(file === undefined ? {} : { file }),
    },
  ];
}

/** ["rpmsg1", "rpmsg2", "rpmsg3", "rpmsg5"] -> "rpmsg1..rpmsg3, rpmsg5": runs of 3 or more become ranges. */
export function interfaceList(names: readonly string[]): string {
  const parts: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length >= 3) parts.push(`${run[0]}..${run[run.length - 1]}`);
    else parts.push(...run);
    run = [];
  };
  for (const name of names) {
    const prev = run[run.length - 1];
    if (prev === undefined || !follows(prev, name)) flush();
    run.push(name);
  }
  flush();
  return parts.join(', ');
}

/** "rpmsg9" then "rpmsg10": same prefix, number one higher. */
function follows(a: string, b: string): boolean {
  const ma = /^(.*?)(\d+)$/.exec(a);
  const mb = /^(.*?)(\d+)$/.exec(b);
  return ma !== null && mb !== null && ma[1] === mb[1] && Number(mb[2]) === Number(ma[2]) + 1;
}
