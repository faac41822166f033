// The control socket: one JSON request per line, one JSON response per line. Only root can connect
// (the socket is mode 0600 in a 0700 directory).

export const DEFAULT_CONTROL_SOCKET = '/run/rpmsg-eth/control.sock';
export const CONTROL_ENV = 'RPMSG_ETH_CONTROL';

/** --control-socket, else $RPMSG_ETH_CONTROL, else the config's controlSocket, else the default. */
export function controlSocketPath(explicit?: string, configured?: string): string {
  return explicit ?? (process.env[CONTROL_ENV] || undefined) ?? configured ?? DEFAULT_CONTROL_SOCKET;
}

export type ControlRequest =
  | { cmd: 'stats' }
  | { cmd: 'status' }
  | { cmd: 'reload' }
  | { cmd: 'capture'; file: string; channels?: number[]; count?: number; durationMs?: number }
  | { cmd: 'replay'; file: string; channel: number }
  | { cmd: 'peer-restart'; channel: number; downMs?: number };

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };
