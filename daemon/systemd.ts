// The daemon's side of a systemd Type=notify service: READY/STATUS/RELOADING/STOPPING through the native
// sd_notify, and the watchdog: with WatchdogSec= in the unit, systemd sets WATCHDOG_USEC and restarts the
// daemon when no WATCHDOG=1 arrives in time. The keep-alive is a timer on the event loop, so a wedged loop
// stops it and gets the daemon restarted. Without $NOTIFY_SOCKET (not started by systemd) all of this is
// a no-op.
import type { Logger } from '../src/log.js';
import { sdNotify } from '../src/native/index.js';

export class SystemdNotifier {
  private readonly socket: string | undefined;
  /** Keep-alive period in ms (half of WATCHDOG_USEC), or undefined when the watchdog is off. */
  readonly watchdogIntervalMs: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private failed = false;

  /** Reads (and removes, so that child processes do not inherit them) systemd's variables. */
  constructor(
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.socket = env.NOTIFY_SOCKET || undefined;
    const usec = Number(env.WATCHDOG_USEC);
    // WATCHDOG_PID, when set, names the process the watchdog is meant for.
    const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
    this.watchdogIntervalMs = this.socket && forUs && Number.isFinite(usec) && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : undefined;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
  }

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Starts the keep-alives (WATCHDOG=1 every half period) if systemd asked for them. */
  startWatchdog(): void {
    if (this.watchdogIntervalMs === undefined || this.watchdog) return;
    this.send('WATCHDOG=1');
    // unref: the keep-alive alone must not keep a finished daemon running.
    this.watchdog = setInterval(() => this.send('WATCHDOG=1'), this.watchdogIntervalMs).unref();
    this.log.debug({ intervalMs: this.watchdogIntervalMs }, `systemd watchdog: keep-alive every ${this.watchdogIntervalMs} ms`);
  }

  ready(interfaces: number): void {
    this.send(`READY=1\nSTATUS=${interfaces} interface${interfaces === 1 ? '' : 's'} up`);
  }

  reloading(): void {
    // MONOTONIC_USEC lets systemd match the reload to its own request (Type=notify-reload); libuv's
    // hrtime is CLOCK_MONOTONIC.
    this.send(`RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
  }

  stopping(): void {
    this.send('STOPPING=1\nSTATUS=stopping: removing interfaces');
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private send(state: string): void {
    if (this.socket === undefined) return;
    try {
      sdNotify(this.socket, state);
      this.failed = false;
    } catch (err) {
      // Log a failure once, not every keep-alive.
      if (!this.failed) this.log.warn({ err: (err as Error).message }, `cannot notify systemd: ${(err as Error).message}`);
      this.failed = true;
    }
  }
}
