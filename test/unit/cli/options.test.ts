// One meaning per flag across the commands: -c is the config, -w writes a file, and every duration
// option takes a unit.
import { spawnSync } from 'node:child_process';
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../../daemon/commands/index.js';
import { cliPath } from '../../helpers/daemon.js';

const program = new Command('rpmsg-eth');
registerCommands(program);
const commands = program.commands;
const options = (name: string): readonly Option[] => commands.find((c) => c.name() === name)!.options;
const option = (command: string, long: string): Option => options(command).find((o) => o.long === long)!;

describe('command-line options', () => {
  it('-c is --config on every command that has it, and every command but check has it', () => {
    for (const c of commands) {
      const short = c.options.find((o) => o.short === '-c');
      if (c.name() === 'check') expect(short).toBeUndefined();
      else expect(short?.long, c.name()).toBe('--config');
    }
  });

  it('-w writes a file wherever it exists; status --watch has no short flag', () => {
    for (const c of commands) {
      const w = c.options.find((o) => o.short === '-w');
      if (w) expect(w.long, c.name()).toBe('--write');
    }
    expect(option('status', '--watch').short).toBeUndefined();
    expect(option('capture', '--count').short).toBeUndefined();
  });

  it('every duration option takes a unit and refuses a bare number', () => {
    const durations: Array<[string, string]> = [
      ['up', '--health-interval'],
      ['capture', '--duration'],
      ['peer-restart', '--down'],
    ];
    for (const [command, long] of durations) {
      const o = option(command, long);
      expect(o.parseArg!('500ms', undefined), `${command} ${long}`).toBe(500);
      expect(o.parseArg!('2m', undefined)).toBe(120_000);
      expect(() => o.parseArg!('4000', undefined)).toThrow(`${long}: "4000" needs a unit`);
    }
    expect(option('up', '--health-interval').parseArg!('0', undefined)).toBe(0);
    expect(() => option('up', '--health-interval').parseArg!('50ms', undefined)).toThrow(/shorter than 100ms/);
  });

  it('up documents its log options and the environment in --help', () => {
    const help = captureHelp('up');
    for (const text of ['--log-level', '--log-format', 'RPMSG_ETH_LOG', 'RPMSG_ETH_CONFIG', '/etc/rpmsg-eth/rpmsg-eth.yaml', 'WATCHDOG_USEC']) {
      expect(help).toContain(text);
    }
  });
});

/** What `rpmsg-eth NAME --help` prints, including the text added after the options. */
function captureHelp(name: string): string {
  const command = commands.find((c) => c.name() === name)!;
  let out = '';
  command.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  command.exitOverride();
  try {
    command.outputHelp();
  } finally {
    command.configureOutput({});
  }
  return out;
}

// Issue 13, items 8 and 10: these took 11 s and ended in a RangeError, or ended a capture at once.
describe('bounded option values', () => {
  it('--channels refuses huge ranges and numbers past 32 bits at once', async () => {
    const { parseChannelList } = await import('../../../daemon/commands/up.js');
    expect(parseChannelList('0,3,5-7')).toEqual([0, 3, 5, 6, 7]);
    const started = Date.now();
    expect(() => parseChannelList('0-99999999')).toThrow(/--channels: "0-99999999" names more than 1024 channels/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(() => parseChannelList('4294967296')).toThrow(/--channels: 4294967296 is not a channel number/);
    expect(() => parseChannelList('99999999999999999999')).toThrow(/is not a channel number or range/);
    expect(parseChannelList('4294967295')).toEqual([4294967295]);
  });

  it('capture --duration refuses what a timer cannot hold', () => {
    expect(() => option('capture', '--duration').parseArg!('2147484s', undefined)).toThrow(/longer than/);
  });

  it('capture --count takes whole numbers only (1.5, 0, -1, 1e3 refused)', () => {
    const count = option('capture', '--count');
    expect(count.parseArg!('6', undefined)).toBe(6);
    for (const bad of ['1.5', '0', '-1', '1e3', '0x10', '', '4294967297']) {
      expect(() => count.parseArg!(bad, undefined), bad).toThrow(/--count: ".*" is not a whole number from 1 to 4294967296/);
    }
  });
});

// Issue 13, minor: `-w /proc/x.pcapng` said "no such directory" (/proc exists; files cannot be made in it).
describe('capture -w names the real reason it cannot write', () => {
  const capture = (write: string) =>
    spawnSync(process.execPath, [cliPath, 'capture', '-w', write, '--control-socket', '/nonexistent/control.sock'], { encoding: 'utf8' });

  it('a folder where files cannot be created, a missing folder', () => {
    const proc = capture('/proc/x.pcapng');
    expect(proc.status).toBe(1);
    expect(proc.stderr).toBe('rpmsg-eth: capture: cannot write /proc/x.pcapng: files cannot be created in that folder\n');
    const missing = capture('/nonexistent-dir/x.pcapng');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('rpmsg-eth: capture: cannot write /nonexistent-dir/x.pcapng: no such directory\n');
  });
});
