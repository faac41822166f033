// Board files as the kernel build reads them (cpp, then dtc): #include and /include/ of .dtsi files, a
// <dt-bindings/...> header, a &label override of the rpmsg node. `check` and `plan` (the real CLI) read
// them and agree with the flattened equivalent; errors name the file, line and include chain; the tools
// run bounded; a missing tool is one line naming its Debian package.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../../src/channels/plan.js';
import { DeviceTreeError } from '../../../src/devicetree/errors.js';
import { parseFdt } from '../../../src/devicetree/fdt.js';
import { loadDeviceTree } from '../../../src/devicetree/load.js';
import { BOARD_LINES, writeBoardFiles } from '../../helpers/board.js';
import { cliPath } from '../../helpers/daemon.js';
import { requireTools } from '../../helpers/tools.js';
import { canonical, compileWithDtc, lantaDts, lantaFlat, lantaIncludes } from './dtc.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'rpmsg-eth-board-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** The DeviceTreeError message for `file`, which must fail to load. */
async function loadError(file: string, includeDirs: string[] = []): Promise<string> {
  try {
    await loadDeviceTree(file, { includeDirs });
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceTreeError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error(`${file} loaded`);
}

beforeAll(() => requireTools('cpp', 'dtc'));

describe('a board file with includes, bindings and a &label override', () => {
  const files = writeBoardFiles(join(scratch, 'board'));

  it('check reads it: the same report as the flattened equivalent', async () => {
    const board = await cli(['check', '--json', '--include', files.includeDir, files.board]);
    const flat = await cli(['check', '--json', files.flat]);
    expect(board.code, board.stderr).toBe(0);
    expect(flat.code, flat.stderr).toBe(0);
    // The same but for the file each names.
    const strip = (out: string, file: string) => JSON.parse(out.replaceAll(JSON.stringify(file).slice(1, -1), 'FILE')) as unknown;
    expect(strip(board.stdout, files.board)).toEqual(strip(flat.stdout, files.flat));
    expect(JSON.parse(board.stdout)).toMatchObject({ format: 'dts', node: '/soc/rpmsg', channelCount: 3, errors: 0 });
  });

  it('plan reads it: the same plan as the flattened equivalent', async () => {
    const board = await cli(['plan', '--json', '-I', files.includeDir, files.board]);
    const flat = await cli(['plan', '--json', files.flat]);
    expect(board.code, board.stderr).toBe(0);
    const plans = JSON.parse(board.stdout) as Array<{ ethEndpoint: number; bufSize: number; mtu: number }>;
    expect(plans).toEqual(JSON.parse(flat.stdout));
    // The macros were expanded: TEST_EP(1) = 0x20, TEST_KIB(8) = 8192.
    expect(plans.map((p) => [p.ethEndpoint, p.bufSize, p.mtu])).toEqual([[0x10, 8192, 8162], [0x20, 512, 482], [0x30, 512, 482]]);
  });

  it('gives the same tree as dtc alone makes of the flattened file', async () => {
    const { root } = await loadDeviceTree(files.board, { includeDirs: [files.includeDir] });
    expect(canonical(root, true)).toEqual(canonical(parseFdt(compileWithDtc(files.flat), 'flat'), true));
  });

  it("plan finds the includes through the config's deviceTreeIncludes; --include is searched first", async () => {
    const root = join(scratch, 'via-config');
    const f = writeBoardFiles(root);
    mkdirSync(join(root, 'etc'));
    const config = join(root, 'etc', 'rpmsg-eth.yaml');
    writeFileSync(config, 'deviceTree: ../board.dts\ndeviceTreeIncludes: [../include]\n');
    const viaConfig = await loadPlan({ configPath: config, cwd: '/' });
    expect(viaConfig.plans.map((p) => p.ethEndpoint)).toEqual([0x10, 0x20, 0x30]);
    // A header of the same name in an --include folder wins over the config's.
    const other = join(root, 'other');
    mkdirSync(join(other, 'dt-bindings/test'), { recursive: true });
    writeFileSync(
      join(other, 'dt-bindings/test/rpmsg.h'),
      readFileSync(join(f.includeDir, 'dt-bindings/test/rpmsg.h'), 'utf8').replace('(0x10 * ((ch) + 1))', '(0x40 * ((ch) + 1))'),
    );
    const viaOption = await loadPlan({ configPath: config, includeDirs: [other], cwd: '/' });
    expect(viaOption.plans.map((p) => p.ethEndpoint)).toEqual([0x40, 0x80, 0xc0]);
  });

  it('without its include folder: one line naming the header, the line and the remedy', async () => {
    const r = await cli(['check', files.board]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `rpmsg-eth: ${files.board}:2: no include path in which to search for dt-bindings/test/rpmsg.h; add its folder with --include DIR or deviceTreeIncludes\n`,
    );
  });
});

describe('errors inside included files name that file, its line and the include chain', () => {
  it('a syntax error in the #include-d .dtsi', async () => {
    const files = writeBoardFiles(join(scratch, 'soc-error'));
    const soc = readFileSync(files.socDtsi, 'utf8').split('\n');
    const line = soc.findIndex((l) => l.includes('channel-num = <0>;'));
    soc[line] = '\t\t\tchannel-num = <0>'; // no ';'
    writeFileSync(files.socDtsi, soc.join('\n'));
    // dtc notices at the next token, the line after.
    expect(await loadError(files.board, [files.includeDir])).toBe(
      `${files.board}: ${files.socDtsi}:${line + 2}: syntax error (included from ${files.board}:${BOARD_LINES.socInclude})`,
    );
  });

  it('a syntax error in the /include/-d .dtsi', async () => {
    const files = writeBoardFiles(join(scratch, 'irq-error'));
    writeFileSync(files.irqDtsi, readFileSync(files.irqDtsi, 'utf8').replace('msg-num = <3>;', 'msg-num = <3 ;'));
    // dtc opens /include/ files itself and names them as it found them: relative to the board's folder.
    expect(await loadError(files.board, [files.includeDir])).toMatch(
      new RegExp(`^${files.board}: ${files.irqDtsi}:5: syntax error \\(included from ${files.board}:${BOARD_LINES.irqInclude}\\)$`),
    );
  });

  it('a missing /include/ file is reported at the line that names it', async () => {
    const files = writeBoardFiles(join(scratch, 'irq-missing'));
    rmSync(files.irqDtsi);
    expect(await loadError(files.board, [files.includeDir])).toBe(
      `${files.board}:${BOARD_LINES.irqInclude}: cannot open /include/ "irqs.dtsi": No such file or directory; add its folder with --include DIR or deviceTreeIncludes`,
    );
  });

  it('an undefined label in the board file', async () => {
    const files = writeBoardFiles(join(scratch, 'label'));
    writeFileSync(files.board, readFileSync(files.board, 'utf8').replace('&rpmsg {', '&rpmsgx {'));
    expect(await loadError(files.board, [files.includeDir])).toMatch(new RegExp(`^${files.board}:10: Label or path rpmsgx not found$`));
  });

  it('relative paths are shown relative to the working folder', async () => {
    const files = writeBoardFiles(join(scratch, 'relative'));
    writeFileSync(files.socDtsi, readFileSync(files.socDtsi, 'utf8').replace('soc {', 'soc {{'));
    const r = await run(process.execPath, [cliPath, 'check', '-I', 'include', 'board.dts'], { cwd: join(scratch, 'relative') }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(r).toMatchObject({ code: 2, stderr: 'rpmsg-eth: board.dts: soc.dtsi:5: syntax error (included from board.dts:3)\n' });
  });
});

describe('config/lanta.dts, the packaged board file', () => {
  it('has the same tree as its flattened equivalent, 18-cell channel-dst included', async () => {
    const { root, format } = await loadDeviceTree(lantaDts, { includeDirs: lantaIncludes });
    expect(format).toBe('dts');
    expect(canonical(root, true)).toEqual(canonical(parseFdt(compileWithDtc(lantaFlat), 'flat'), true));
  });
});

describe('bounded: the tools cannot hang or eat memory', () => {
  const dir = join(scratch, 'bounded');
  mkdirSync(dir, { recursive: true });
  const board = (name: string, body: string): string => {
    const file = join(dir, name);
    writeFileSync(file, `/dts-v1/;\n${body}\n/ { };\n`);
    return file;
  };

  it('#include "/dev/zero": cpp stops at its memory limit', async () => {
    const t0 = Date.now();
    expect(await loadError(board('zero.dts', '#include "/dev/zero"'))).toMatch(/zero\.dts: cpp failed: .*out of memory/);
    expect(Date.now() - t0).toBeLessThan(9000);
  });

  it('/include/ "/dev/zero": dtc stops at the first byte', async () => {
    expect(await loadError(board('zero2.dts', '/include/ "/dev/zero"'))).toMatch(/^.*zero2\.dts: \/dev\/zero:1: syntax error \(included from .*zero2\.dts:2\)$/);
  });

  it('#include of a FIFO nobody writes: cpp is killed at its deadline', async () => {
    const fifo = join(dir, 'fifo');
    await run('mkfifo', [fifo]);
    expect(await loadError(board('fifo.dts', `#include "${fifo}"`))).toMatch(/fifo\.dts: cpp did not finish within 10 s/);
  }, 20_000);

  it('the device tree itself must be a regular file or a directory', async () => {
    expect(await loadError('/dev/zero')).toBe('/dev/zero: cannot read device tree: not a regular file or a directory (a character device)');
    const fifo = join(dir, 'top-fifo');
    await run('mkfifo', [fifo]);
    expect(await loadError(fifo)).toBe(`${fifo}: cannot read device tree: not a regular file or a directory (a FIFO)`);
  });

  it('a file far larger than a device tree is refused before it is read', async () => {
    const big = join(dir, 'big.dts');
    writeFileSync(big, Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(await loadError(big)).toMatch(/big\.dts: cannot read device tree: 5242880 bytes, more than the 4194304 a device tree may have/);
  });
});

describe('a missing tool is one line naming its Debian package', () => {
  const files = writeBoardFiles(join(scratch, 'tools'));
  const withPath = async (path: string): Promise<string> => {
    const saved = process.env.PATH;
    process.env.PATH = path;
    try {
      return await loadError(files.board, [files.includeDir]);
    } finally {
      process.env.PATH = saved;
    }
  };

  it('cpp', async () => {
    expect(await withPath(join(scratch, 'empty-bin'))).toBe(
      `${files.board}: cpp is not installed (Debian package cpp); a .dts goes through cpp and dtc, a .dtb or /proc/device-tree needs neither`,
    );
  });

  it('dtc', async () => {
    const bin = join(scratch, 'cpp-only-bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync('/usr/bin/cpp', join(bin, 'cpp'));
    expect(await withPath(bin)).toMatch(/: dtc is not installed \(Debian package device-tree-compiler\)/);
  });

  it('a .dtb needs neither', async () => {
    const dtb = join(scratch, 'tools', 'flat.dtb');
    writeFileSync(dtb, compileWithDtc(files.flat));
    const saved = process.env.PATH;
    process.env.PATH = join(scratch, 'empty-bin');
    try {
      expect((await loadDeviceTree(dtb)).format).toBe('dtb');
    } finally {
      process.env.PATH = saved;
    }
  });
});
