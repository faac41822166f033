// The systemd unit: systemd itself accepts it, and it asks for what the daemon does (notify from the
// main process, a watchdog the event loop feeds).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/daemon.js';
import { tool } from '../../helpers/tools.js';

const unit = join(repoRoot, 'daemon/rpmsg-eth.service');

describe('daemon/rpmsg-eth.service', () => {
  it('passes systemd-analyze verify', () => {
    const r = spawnSync(tool('systemd-analyze'), ['verify', unit], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('rpmsg-eth'))).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('is Type=notify with NotifyAccess=main and a watchdog', () => {
    const text = readFileSync(unit, 'utf8');
    const settings = text.split('\n').filter((l) => /^\w+=/.test(l));
    expect(settings).toContain('Type=notify');
    expect(settings).toContain('NotifyAccess=main');
    expect(settings).toContain('Restart=on-failure');
    expect(settings.find((l) => l.startsWith('WatchdogSec='))).toMatch(/^WatchdogSec=\d+s$/);
  });
});
