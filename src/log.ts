// Structured logs (pino). Human-readable output only when stderr is a terminal.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.RPMSG_ETH_LOG ?? 'info'): Logger {
  if (process.stderr.isTTY) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}
