// `rpmsg-eth up`: the daemon, in the foreground.
import { Command, Option } from 'commander';
import { controlSocketPath } from '../../src/control/protocol.js';
import { createLogger } from '../../src/log.js';
import { UserError } from '../../src/util/errors.js';
import { Daemon } from '../lifecycle.js';
import { notifySystemd } from '../systemd.js';
import { includeOption } from './include-option.js';

export function parseChannelList(value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UserError(`--channels: "${part}" is not a channel number or range (e.g. 0,3,5-7)`, 2);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UserError(`--channels: empty range "${part}"`, 2);
    for (let n = lo; n <= hi; n++) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

export function upCommand(): Command {
  return new Command('up')
    .description(
      'Run the daemon in the foreground: one TAP interface per rpmsg channel, bridged to the channel\'s ' +
        'eth-dev endpoint. Stops (removing every interface and namespace it created) on SIGINT/SIGTERM.',
    )
    .argument('[device-tree]', 'device-tree source (.dts, .dtb or a /proc/device-tree style directory); replaces the config\'s')
    .option('-c, --config <file>', 'daemon config', 'config/rpmsg-eth.yaml')
    .addOption(includeOption())
    .addOption(new Option('-t, --transport <name>', 'endpoint transport (default: the config\'s)').choices(['sim', 'kmod', 'rpmsg-char']))
    .option('--netns <name>', 'create the interfaces in this network namespace (created if missing)')
    .option('--peer-netns <name>', 'sim only: namespace of the simulated VxWorks peers (default: the config\'s, rpmsg-vx)')
    .option('--channels <list>', 'only these channel numbers, e.g. 0,3,5-7', parseChannelList)
    .addOption(new Option('--framing <framing>', 'framing of every channel, over the config\'s (frag: docs/frag-wire-spec.md)').choices(['raw', 'frag']))
    .addOption(new Option('--sim-raw-only-peers <list>', 'debug: these channels\' simulated peers speak only raw').argParser(parseChannelList).hideHelp())
    .option('--health-interval <ms>', 'ICMP health probes to every peer every MS milliseconds, over the config\'s; 0 = off', (v: string) => {
      if (!/^\d+$/.test(v) || (Number(v) > 0 && Number(v) < 100)) throw new UserError(`--health-interval: "${v}" is not 0 or a number of milliseconds >= 100`, 2);
      return Number(v);
    })
    .option('--metrics <[addr:]port>', 'serve Prometheus metrics on http://ADDR:PORT/metrics (loopback unless ADDR is given); off by default')
    .option('--control-socket <path>', 'control socket path (default /run/rpmsg-eth/control.sock, or $RPMSG_ETH_CONTROL)')
    .action(async (deviceTree: string | undefined, o: Record<string, unknown>) => {
      const log = createLogger();
      const daemon = new Daemon({
        deviceTree,
        includeDirs: o.include as string[] | undefined,
        configPath: o.config as string,
        transport: o.transport as string | undefined,
        netns: o.netns as string | undefined,
        peerNetns: o.peerNetns as string | undefined,
        channels: o.channels as number[] | undefined,
        metrics: o.metrics as string | undefined,
        healthIntervalMs: o.healthInterval as number | undefined,
        framing: o.framing as 'raw' | 'frag' | undefined,
        simRawOnlyPeers: o.simRawOnlyPeers as number[] | undefined,
        controlSocket: controlSocketPath(o.controlSocket as string | undefined),
        log,
      });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        // systemd and a terminal's Ctrl-C signal the whole group: finish the teardown regardless.
        if (signals++ === 0) {
          log.info({ signal }, 'stopping');
          void daemon.stop();
        } else log.warn({ signal }, 'teardown in progress; signal ignored');
      };
      const onHangup = () => {
        log.info('SIGHUP: reloading the config and the device tree');
        daemon.reload().catch(() => undefined); // the daemon logs why it rejected the reload
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', onHangup);
      try {
        if (await daemon.start()) notifySystemd('READY=1');
      } catch (err) {
        await daemon.stop();
        throw err;
      }
      await daemon.stopped;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onHangup);
    });
}
