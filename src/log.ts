// The daemon's log (pino) on stderr. For a person at a terminal: one short line per event (pino-pretty,
// in this process, synchronous, so nothing is lost at exit). Otherwise — a pipe, a file, the journal — or
// with --log-format json: one JSON object per line, for machines.
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { UserError } from './util/errors.js';

export type { Logger };

export const LOG_LEVEL_ENV = 'RPMSG_ETH_LOG';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  /** Default: $RPMSG_ETH_LOG, else info. */
  level?: string;
  /** Default: pretty when stderr is a terminal, else json. */
  format?: LogFormat;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const fromEnv = process.env[LOG_LEVEL_ENV];
  const level = opts.level ?? (fromEnv || 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const where = opts.level === undefined ? `$${LOG_LEVEL_ENV}` : '--log-level';
    throw new UserError(`${where}: "${level}" is not a log level (${LOG_LEVELS.join(', ')})`, 2);
  }
  const format = opts.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format === 'json') return pino({ level }, pino.destination({ dest: 2, sync: true }));
  const pretty = PinoPretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss.l',
    // `name` is a channel's name in our fields, not a logger name: the message carries it.
    ignore: 'pid,hostname,name',
    // The message says what happened; the structured fields are for the JSON form. Only an error's
    // reason, which messages do not always repeat, is added.
    hideObject: true,
    messageFormat: (log, messageKey) => {
      const msg = String(log[messageKey] ?? '');
      const reason = log.err ?? log.error;
      return typeof reason === 'string' && !msg.includes(reason) ? `${msg}: ${reason}` : msg;
    },
  });
  return pino({ level }, pretty);
}
