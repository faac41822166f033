// The daemon's log: one short human line per event, or one JSON object per line; the level from
// --log-level or $RPMSG_ETH_LOG. Run in a child (the built dist/) because the log writes to fd 2.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { UserError } from '../../../src/util/errors.js';
import { repoRoot } from '../../helpers/daemon.js';

function logOf(opts: object, env: Record<string, string> = {}): string[] {
  const script =
    `const { createLogger } = await import(${JSON.stringify(join(repoRoot, 'dist/src/log.js'))});\n` +
    `const log = createLogger(${JSON.stringify(opts)});\n` +
    "log.debug('a debug line');\nlog.info({ ifname: 'rpmsg3', mtu: 482 }, 'rpmsg3 up: mtu 482');\n" +
    "log.error({ err: 'EPERM' }, 'metrics endpoint');\n";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, RPMSG_ETH_LOG: '', NO_COLOR: '1', ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.trimEnd().split('\n');
}

describe('log', () => {
  it('pretty: one short line per event, the message and an error reason, no JSON and no fields', () => {
    const lines = logOf({ format: 'pretty' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: rpmsg3 up: mtu 482$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: metrics endpoint: EPERM$/);
  });

  it('json when stderr is not a terminal, with every field', () => {
    const lines = logOf({});
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { level: 30, msg: 'rpmsg3 up: mtu 482', ifname: 'rpmsg3', mtu: 482 },
      { level: 50, msg: 'metrics endpoint', err: 'EPERM' },
    ]);
  });

  it('the level from the option, else from $RPMSG_ETH_LOG', () => {
    expect(logOf({ format: 'json', level: 'debug' })).toHaveLength(3);
    expect(logOf({ format: 'json' }, { RPMSG_ETH_LOG: 'error' })).toHaveLength(1);
    expect(logOf({ format: 'json', level: 'info' }, { RPMSG_ETH_LOG: 'error' })).toHaveLength(2);
  });

  it('an unknown level is a one-line error naming where it came from', () => {
    expect(() => createLogger({ level: 'loud' })).toThrow(new UserError('--log-level: "loud" is not a log level (trace, debug, info, warn, error, fatal, silent)'));
    process.env.RPMSG_ETH_LOG = 'verbose';
    try {
      expect(() => createLogger()).toThrow(/^\$RPMSG_ETH_LOG: "verbose" is not a log level/);
    } finally {
      delete process.env.RPMSG_ETH_LOG;
    }
  });
});
