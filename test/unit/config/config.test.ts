// The daemon config: defaults, the shipped file, and errors reported by key path.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfigPath, loadConfig, parseConfig } from '../../../src/config/load.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rpmsg-eth-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function configError(text: string): string {
  try {
    parseConfig(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('an empty file means all defaults', () => {
    expect(parseConfig('', 'empty.yaml')).toEqual({
      deviceTree: './lanta.dts',
      transport: 'sim',
      framing: 'raw',
      interfaces: { namePattern: 'rpmsg{channel}' },
      addressing: { subnet: '169.254.100.0/24', linuxHost: 1, peerHost: 2 },
      peer: { netns: 'rpmsg-vx' },
      health: { intervalMs: 5000, failAfter: 3 },
      channels: {},
    });
  });

  it('health: interval 0 turns probes off; too short an interval and unknown keys are errors by path', () => {
    expect(parseConfig('health: { intervalMs: 0 }\n', 'h.yaml').health).toEqual({ intervalMs: 0, failAfter: 3 });
    expect(configError('health: { intervalMs: 5 }\n')).toMatch(/health\.intervalMs/);
    expect(configError('health: { every: 5 }\n')).toMatch(/health/);
    expect(configError('channels:\n  "3": { health: "no" }\n')).toMatch(/channels\.3\.health/);
  });

  it('the shipped config/rpmsg-eth.yaml is the default and holds exactly the defaults', () => {
    expect(defaultConfigPath()).toBe(join(root, 'config/rpmsg-eth.yaml'));
    const loaded = loadConfig();
    expect(loaded.config).toEqual(parseConfig('', 'empty.yaml'));
    expect(loaded.dir).toBe(join(root, 'config'));
  });

  it('reads per-channel overrides keyed by channel number', () => {
    const c = parseConfig('channels:\n  3:\n    mtu: 400\n    enabled: false\n  16:\n    address: 10.0.16.1/24\n    peerAddress: 10.0.16.2\n', 'x');
    expect(c.channels).toEqual({ '3': { mtu: 400, enabled: false }, '16': { address: '10.0.16.1/24', peerAddress: '10.0.16.2' } });
  });

  it('treats empty sections as absent', () => {
    expect(parseConfig('peer:\nchannels:\n', 'x').peer.netns).toBe('rpmsg-vx');
  });

  const cases: Array<[string, string, RegExp]> = [
    ['unknown top-level key', 'devicetree: x.dts\n', /^test\.yaml: devicetree: unknown key$/],
    ['unknown nested key', 'interfaces:\n  pattern: x\n', /^test\.yaml: interfaces\.pattern: unknown key$/],
    ['unknown channel key', 'channels:\n  3:\n    mut: 400\n', /^test\.yaml: channels\.3\.mut: unknown key$/],
    ['mtu out of range', 'channels:\n  3:\n    mtu: 70000\n', /^test\.yaml: channels\.3\.mtu: .*65535/],
    ['mtu below the minimum', 'channels:\n  3:\n    mtu: 10\n', /^test\.yaml: channels\.3\.mtu: .*68/],
    ['mtu not a number', 'channels:\n  3:\n    mtu: big\n', /^test\.yaml: channels\.3\.mtu: .*expected number/],
    ['bad channel key', 'channels:\n  three:\n    mtu: 400\n', /^test\.yaml: channels\.three: expected a channel number/],
    ['bad address', 'channels:\n  1:\n    address: 300.1.1.1/24\n', /^test\.yaml: channels\.1\.address: expected an IPv4 address/],
    ['peer with prefix', 'channels:\n  1:\n    peerAddress: 10.0.0.2/24\n', /^test\.yaml: channels\.1\.peerAddress: expected an IPv4 address/],
    ['bad transport', 'transport: usb\n', /^test\.yaml: transport: .*"sim"\|"kmod"\|"rpmsg-char"/],
    ['pattern without placeholder', 'interfaces:\n  namePattern: eth\n', /^test\.yaml: interfaces\.namePattern: must contain \{channel\} or \{index\}/],
    ['bad subnet', 'addressing:\n  subnet: 169.254.100.0\n', /^test\.yaml: addressing\.subnet: expected an IPv4 address with prefix/],
    ['bad netns', 'peer:\n  netns: "a b"\n', /^test\.yaml: peer\.netns: expected a network-namespace name/],
    ['not a mapping', '- a\n- b\n', /^test\.yaml: \(top level\): .*expected object/],
    ['two errors at once', 'transport: usb\nchannels:\n  1:\n    mtu: -1\n', /transport: .*; channels\.1\.mtu: /],
    ['YAML syntax error with position', 'peer:\n  netns: [a\n', /^test\.yaml:\d+:\d+: /],
    ['duplicate key', 'transport: sim\ntransport: kmod\n', /^test\.yaml:2:1: .*[Dd]uplicate|unique/],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      expect(configError(text)).toMatch(message);
    });
  }

  it('a missing file is one line naming it', () => {
    expect(() => loadConfig(join(scratch, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read config: no such file$/);
  });

  // Issue 13, items 2 and 8: /dev/zero grew the process to gigabytes, a FIFO blocked it for good, and an
  // alias bomb ended in a stack trace.
  describe('what is read is bounded', () => {
    it('devices, FIFOs and directories are refused without reading them', () => {
      expect(() => loadConfig('/dev/zero')).toThrow(/^\/dev\/zero: cannot read config: not a regular file \(a device\)$/);
      const fifo = join(scratch, 'fifo.yaml');
      execFileSync('mkfifo', [fifo]);
      expect(() => loadConfig(fifo)).toThrow(/fifo\.yaml: cannot read config: not a regular file \(a FIFO\)$/);
      mkdirSync(join(scratch, 'dir.yaml'));
      expect(() => loadConfig(join(scratch, 'dir.yaml'))).toThrow(/dir\.yaml: cannot read config: is a directory$/);
    });

    it('a file over 1 MiB is refused', () => {
      const big = join(scratch, 'big.yaml');
      writeFileSync(big, `# ${'x'.repeat(1 << 20)}\n`);
      expect(() => loadConfig(big)).toThrow(/big\.yaml: cannot read config: 1048579 bytes, more than the 1048576 a config may have$/);
    });

    it('a YAML alias bomb is one line, not an expansion or a stack trace', () => {
      const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
      const err = configError(`${levels.join('\n')}\n`);
      expect(err).toMatch(/^test\.yaml: .*alias/i);
      expect(err).not.toMatch(/\n/);
    });
  });

  it('loads a file and resolves its directory', () => {
    const file = join(scratch, 'a.yaml');
    writeFileSync(file, 'deviceTree: ../boards/x.dts\n');
    const loaded = loadConfig(file);
    expect(loaded.path).toBe(file);
    expect(loaded.dir).toBe(scratch);
  });
});
