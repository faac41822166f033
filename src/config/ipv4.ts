// IPv4 addresses as 32-bit numbers, for the per-channel subnets of the interface plan.

export interface Ipv4Net {
  /** Host address (any address in the subnet). */
  addr: number;
  prefix: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | null {
  const m = OCTETS.exec(text);
  if (m === null) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255) || m.slice(1).some((o) => o.length > 1 && o.startsWith('0'))) return null;
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

/** "a.b.c.d/p"; without a prefix, defaultPrefix applies (null: the prefix is required). */
export function parseIpv4Net(text: string, defaultPrefix: number | null = null): Ipv4Net | null {
  const [addrText, prefixText, ...rest] = text.split('/');
  if (rest.length > 0 || addrText === undefined) return null;
  const addr = parseIpv4(addrText);
  if (addr === null) return null;
  if (prefixText === undefined) return defaultPrefix === null ? null : { addr, prefix: defaultPrefix };
  if (!/^\d{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= 32 ? { addr, prefix } : null;
}

export function formatIpv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff].join('.');
}

export function netmask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkOf(net: Ipv4Net): number {
  return (net.addr & netmask(net.prefix)) >>> 0;
}

export function sameSubnet(a: Ipv4Net, b: number): boolean {
  return networkOf(a) === ((b & netmask(a.prefix)) >>> 0);
}

/** True when the two subnets share any address. */
export function subnetsOverlap(a: Ipv4Net, b: Ipv4Net): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.addr & netmask(prefix)) >>> 0) === ((b.addr & netmask(prefix)) >>> 0);
}
