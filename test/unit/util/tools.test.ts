// The test helper that turns a missing program into the package to install.
import { afterEach, describe, expect, it } from 'vitest';
import { requireTools, tool } from '../../helpers/tools.js';

describe('requireTools', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('names the Debian package of a missing program, not ENOENT', () => {
    process.env.PATH = '/nonexistent';
    expect(() => tool('tshark')).toThrow(
      'this test runs tshark, which is not installed: apt-get install tshark (scripts/install-deps.sh installs every package the tests use)',
    );
    expect(() => requireTools('capinfos', 'editcap', 'dtc')).toThrow(/runs capinfos, editcap, dtc, .*apt-get install wireshark-common device-tree-compiler /);
  });

  it('passes what is installed', () => {
    expect(tool('python3')).toBe('python3');
    expect(() => requireTools('tshark', 'capinfos', 'editcap', 'tcpdump', 'dtc', 'cc', 'script', 'systemd-analyze')).not.toThrow();
  });
});
