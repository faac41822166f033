// Where the config comes from: --config, $RPMSG_ETH_CONFIG, /etc/rpmsg-eth/rpmsg-eth.yaml, the packaged
// one — in that order, whatever the working directory. (The real /etc is exercised by test/e2e/first-run.)
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { clientSocket } from '../../../daemon/commands/config-option.js';
import { loadPlan } from '../../../src/channels/plan.js';
import { SYSTEM_CONFIG, describeConfig, locateConfig } from '../../../src/config/locate.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packaged = join(root, 'config/rpmsg-eth.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'rpmsg-eth-locate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const system = join(scratch, 'etc/rpmsg-eth/rpmsg-eth.yaml');
const absent = join(scratch, 'no-etc/rpmsg-eth.yaml');

describe('locateConfig', () => {
  mkdirSync(join(scratch, 'etc/rpmsg-eth'), { recursive: true });
  writeFileSync(system, 'deviceTree: ./board.dts\n');

  it('--config first, relative to the working directory', () => {
    const env = { RPMSG_ETH_CONFIG: '/from/env.yaml' };
    expect(locateConfig('my.yaml', { cwd: '/srv', env, systemPath: system })).toEqual({ path: '/srv/my.yaml', source: 'option' });
  });

  it('then $RPMSG_ETH_CONFIG (an empty value counts as unset)', () => {
    expect(locateConfig(undefined, { cwd: '/srv', env: { RPMSG_ETH_CONFIG: 'env.yaml' }, systemPath: system })).toEqual({
      path: '/srv/env.yaml',
      source: 'environment',
    });
    expect(locateConfig(undefined, { env: { RPMSG_ETH_CONFIG: '' }, systemPath: system }).source).toBe('system');
  });

  it('then the system config when it exists, then the packaged one, whatever the working directory', () => {
    expect(locateConfig(undefined, { env: {}, systemPath: system })).toEqual({ path: system, source: 'system' });
    expect(locateConfig(undefined, { cwd: '/', env: {}, systemPath: absent })).toEqual({ path: packaged, source: 'packaged' });
    expect(SYSTEM_CONFIG).toBe('/etc/rpmsg-eth/rpmsg-eth.yaml');
  });

  it('describes where the config came from', () => {
    expect(describeConfig({ path: system, source: 'system' })).toBe(`${system} (system config)`);
    expect(describeConfig({ path: packaged, source: 'packaged' })).toBe(`${packaged} (packaged default)`);
    expect(describeConfig({ path: '/x.yaml', source: 'environment' })).toBe('/x.yaml ($RPMSG_ETH_CONFIG)');
  });

  it('plan reads what the order finds, and a relative deviceTree resolves against that config file', () => {
    copyFileSync(join(root, 'test/fixtures/dts/three-channels.dts'), join(scratch, 'etc/rpmsg-eth/board.dts'));
    const viaSystem = loadPlan({ cwd: '/', locate: { env: {}, systemPath: system } });
    expect(viaSystem).toMatchObject({ configPath: system, configSource: 'system', deviceTreePath: join(scratch, 'etc/rpmsg-eth/board.dts') });
    expect(viaSystem.plans).toHaveLength(3);
    const viaPackage = loadPlan({ cwd: '/', locate: { env: {}, systemPath: absent } });
    expect(viaPackage).toMatchObject({ configPath: packaged, configSource: 'packaged', deviceTreePath: join(root, 'config/lanta.dts') });
    const viaEnv = loadPlan({ cwd: scratch, locate: { env: { RPMSG_ETH_CONFIG: 'etc/rpmsg-eth/rpmsg-eth.yaml' }, systemPath: absent } });
    expect(viaEnv).toMatchObject({ configPath: system, configSource: 'environment' });
  });
});

describe('clientSocket', () => {
  const env = { ...process.env };
  afterAll(() => {
    process.env = env;
  });

  it('--control-socket, then $RPMSG_ETH_CONTROL, then the config\'s controlSocket, also in a config with mistakes', () => {
    const good = join(scratch, 'client-good.yaml');
    const bad = join(scratch, 'client-bad.yaml');
    writeFileSync(good, 'controlSocket: /run/x/good.sock\n');
    writeFileSync(bad, 'controlSocket: /run/x/bad.sock\nchannels:\n  3: { mtu: big }\n');
    delete process.env.RPMSG_ETH_CONTROL;
    expect(clientSocket({ config: good })).toBe('/run/x/good.sock');
    expect(clientSocket({ config: bad })).toBe('/run/x/bad.sock');
    expect(clientSocket({ config: good, controlSocket: '/tmp/flag.sock' })).toBe('/tmp/flag.sock');
    expect(clientSocket({ config: packaged })).toBe('/run/rpmsg-eth/control.sock');
    expect(() => clientSocket({ config: join(scratch, 'missing.yaml') })).toThrow(/missing\.yaml: cannot read config: no such file/);
    process.env.RPMSG_ETH_CONTROL = '/tmp/env.sock';
    expect(clientSocket({ config: good })).toBe('/tmp/env.sock');
  });
});
