// `rpmsg-eth up`: the daemon, in the foreground.
import { Command, Option } from 'commander';
import { CONFIG_ENV } from '../../src/config/locate.js';
import { limitMallocRetention } from '../../src/native/index.js';
import { parseListenSpec } from '../../src/metrics/server.js';
import { CONTROL_ENV } from '../../src/control/protocol.js';
import { LOG_FORMATS, LOG_LEVELS, LOG_LEVEL_ENV, createLogger, type LogFormat } from '../../src/log.js';
import { durationOption } from '../../src/util/duration.js';
import { UserError } from '../../src/util/errors.js';
import { Daemon } from '../daemon.js';
import { SystemdNotifier } from '../systemd.js';
import { CONFIG_OPTION_HELP } from './config-option.js';
import { includeOption } from './include-option.js';

/** channel-num is a 32-bit cell; a list naming more channels than this is a typo, not a plan. */
const MAX_CHANNEL = 0xffffffff;
const MAX_LISTED = 1024;

export function parseChannelList(value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^\s*(\d{1,10})\s*(?:-\s*(\d{1,10})\s*)?$/.exec(part);
    if (!m) throw new UserError(`--channels: "${part}" is not a channel number or range (e.g. 0,3,5-7)`, 2);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi > MAX_CHANNEL) throw new UserError(`--channels: ${hi} is not a channel number (0..${MAX_CHANNEL})`, 2);
    if (hi < lo) throw new UserError(`--channels: empty range "${part}"`, 2);
    if (hi - lo + 1 + out.size > MAX_LISTED) throw new UserError(`--channels: "${value}" names more than ${MAX_LISTED} channels`, 2);
    for (let n = lo; n <= hi; n++) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

export function upCommand(): Command {
  return new Command('up')
    .description(
      'Run the daemon in the foreground: one TAP interface per rpmsg channel, bridged to the channel\'s ' +
        'eth-dev endpoint (with --transport netdev: rpmsg_eth\'s own interfaces, adopted). Stops (removing every ' +
        'interface and namespace it created; netdev: only the addresses it added) on SIGINT/SIGTERM.',
    )
    .argument('[device-tree]', 'device-tree source (.dts, .dtb or a /proc/device-tree style directory); replaces the config\'s')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .addOption(includeOption())
    .addOption(new Option('-t, --transport <name>', 'endpoint transport (default: the config\'s)').choices(['sim', 'kmod', 'rpmsg-char', 'netdev']))
    .option('--netns <name>', 'create the interfaces in this network namespace (created if missing)')
    .option('--peer-netns <name>', 'sim only: namespace of the simulated VxWorks peers (default: the config\'s, rpmsg-vx)')
    .option('--channels <list>', 'only these channel numbers, e.g. 0,3,5-7', parseChannelList)
    .addOption(new Option('--framing <framing>', 'framing of every channel, over the config\'s (frag: frag/wire-spec.md)').choices(['raw', 'frag']))
    .addOption(new Option('--sim-raw-only-peers <list>', 'debug: these channels\' simulated peers speak only raw').argParser(parseChannelList).hideHelp())
    .option(
      '--health-interval <time>',
      'ICMP health probes to every peer this often, e.g. 500ms, 5s, over the config\'s; 0 = off',
      durationOption('--health-interval', { zero: true, minMs: 100, maxMs: 3_600_000 }),
    )
    .option('--metrics <[addr:]port>', 'serve Prometheus metrics on http://ADDR:PORT/metrics (loopback unless ADDR is given); off by default', (spec: string) => {
      parseListenSpec(spec); // refused here, naming the option, before anything starts
      return spec;
    })
    .option('--control-socket <path>', `control socket path (default: $${CONTROL_ENV}, else the config's controlSocket, else /run/rpmsg-eth/control.sock)`)
    .addOption(new Option('--log-level <level>', `least severe messages logged (default: $${LOG_LEVEL_ENV}, else info)`).choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'pretty: one line per event; json: one JSON object per line (default: pretty on a terminal, else json)').choices(LOG_FORMATS))
    .addHelpText(
      'after',
      `\nThe config is the first of: --config FILE, $${CONFIG_ENV}, /etc/rpmsg-eth/rpmsg-eth.yaml,\n` +
        'the packaged config/rpmsg-eth.yaml. A relative deviceTree in it is relative to the config file.\n' +
        'The log names the config and the device tree read.\n\n' +
        'Environment:\n' +
        `  ${CONFIG_ENV}=FILE         the config, when there is no --config\n` +
        `  ${LOG_LEVEL_ENV}=LEVEL           the log level, when there is no --log-level\n` +
        `  ${CONTROL_ENV}=PATH        the control socket, when there is no --control-socket\n` +
        '  NOTIFY_SOCKET, WATCHDOG_USEC  set by systemd (Type=notify, WatchdogSec=): readiness, keep-alives\n\n' +
        'Signals: SIGINT/SIGTERM stop, removing every interface and namespace it created; SIGHUP reloads.\n',
    )
    .action(async (deviceTree: string | undefined, o: Record<string, unknown>) => {
      const log = createLogger({ level: o.logLevel as string | undefined, format: o.logFormat as LogFormat | undefined });
      // A process that runs for months: memory it frees goes back to the kernel (native/malloc_tuning.cc).
      const mallocLeft = limitMallocRetention();
      if (mallocLeft) log.debug(`malloc thresholds left as they are: ${mallocLeft}`);
      const systemd = new SystemdNotifier(log);
      // Fed from the event loop from the first moment: a start that wedges is caught too.
      systemd.startWatchdog();
      const daemon = new Daemon({
        deviceTree,
        includeDirs: o.include as string[] | undefined,
        configPath: o.config as string | undefined,
        transport: o.transport as string | undefined,
        netns: o.netns as string | undefined,
        peerNetns: o.peerNetns as string | undefined,
        channels: o.channels as number[] | undefined,
        metrics: o.metrics as string | undefined,
        healthIntervalMs: o.healthInterval as number | undefined,
        framing: o.framing as 'raw' | 'frag' | undefined,
        simRawOnlyPeers: o.simRawOnlyPeers as number[] | undefined,
        controlSocket: (o.controlSocket as string | undefined) ?? (process.env[CONTROL_ENV] || undefined),
        systemd,
        log,
      });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        // systemd and a terminal's Ctrl-C signal the whole group: finish the teardown regardless.
        if (signals++ === 0) {
          log.info({ signal }, `${signal}: stopping`);
          systemd.stopping();
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
        if (await daemon.start()) systemd.ready(daemon.interfaceCount);
      } catch (err) {
        systemd.stopping();
        await daemon.stop();
        throw err;
      }
      await daemon.stopped;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onHangup);
    });
}
