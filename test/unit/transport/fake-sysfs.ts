// A fake /sys and /dev laid out as Linux 6.1 lays out rpmsg buses, rpmsg_ctrl and rpmsg_char
// endpoint devices (see src/transport/devices.ts), in a temporary directory.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';

export class FakeSysfs {
  readonly root = mkdtempSync(join(tmpdir(), 'rpmsg-sysfs-'));
  readonly paths = { sysRoot: join(this.root, 'sys'), devDir: join(this.root, 'dev') };

  constructor() {
    mkdirSync(this.paths.devDir, { recursive: true });
  }

  private link(target: string, at: string): void {
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(relative(dirname(at), target), at);
  }

  private busDir(bus: string): string {
    return join(this.paths.sysRoot, 'devices', 'platform', 'remoteproc', bus);
  }

  /** Makes /sys/bus/rpmsg exist (the rpmsg core is loaded). */
  rpmsgBus(): this {
    mkdirSync(join(this.paths.sysRoot, 'bus', 'rpmsg', 'devices'), { recursive: true });
    return this;
  }

  /** A channel the remote announced on `bus`. */
  channel(bus: string, name: string, src: number, dst: number): this {
    const dev = join(this.busDir(bus), `${bus}.${name}.${src}.${dst}`);
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'name'), `${name}\n`);
    writeFileSync(join(dev, 'src'), `0x${src.toString(16)}\n`);
    writeFileSync(join(dev, 'dst'), `0x${dst.toString(16)}\n`);
    this.link(dev, join(this.paths.sysRoot, 'bus', 'rpmsg', 'devices', `${bus}.${name}.${src}.${dst}`));
    return this;
  }

  private ctrlClassDir(bus: string, n: number): string {
    return join(this.busDir(bus), `${bus}.rpmsg_ctrl.0.0`, 'rpmsg', `rpmsg_ctrl${n}`);
  }

  /** rpmsg_ctrl<n> of `bus`; its /dev node is `devTarget` (a symlink) when given. */
  ctrl(bus: string, n: number, devTarget?: string): this {
    const rpdev = join(this.busDir(bus), `${bus}.rpmsg_ctrl.0.0`);
    mkdirSync(rpdev, { recursive: true });
    writeFileSync(join(rpdev, 'name'), 'rpmsg_ctrl\n');
    this.link(rpdev, join(this.paths.sysRoot, 'bus', 'rpmsg', 'devices', `${bus}.rpmsg_ctrl.0.0`));
    const cls = this.ctrlClassDir(bus, n);
    mkdirSync(cls, { recursive: true });
    this.link(rpdev, join(cls, 'device'));
    this.link(cls, join(this.paths.sysRoot, 'class', 'rpmsg', `rpmsg_ctrl${n}`));
    if (devTarget) symlinkSync(devTarget, join(this.paths.devDir, `rpmsg_ctrl${n}`));
    return this;
  }

  /** Endpoint device rpmsg<m> created by rpmsg_ctrl<n> of `bus`; addresses printed as rpmsg_char does (%d). */
  endpoint(bus: string, ctrl: number, m: number, name: string, src: number, dst: number): this {
    const cls = this.ctrlClassDir(bus, ctrl);
    const dev = join(cls, `rpmsg${m}`);
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'name'), `${name}\n`);
    writeFileSync(join(dev, 'src'), `${src | 0}\n`);
    writeFileSync(join(dev, 'dst'), `${dst | 0}\n`);
    this.link(cls, join(dev, 'device'));
    this.link(dev, join(this.paths.sysRoot, 'class', 'rpmsg', `rpmsg${m}`));
    return this;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
