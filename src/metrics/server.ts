// The optional Prometheus endpoint (`up --metrics [ADDR:]PORT`): GET /metrics, loopback unless an
// address is given, so enabling it never exposes the board by accident.
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import type { Registry } from 'prom-client';
import { UserError } from '../util/errors.js';

export interface ListenSpec {
  address: string;
  port: number;
}

export interface MetricsServer {
  /** The address actually bound, e.g. "127.0.0.1". */
  readonly address: string;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_ADDRESS = '127.0.0.1';

const EXPECTED = 'expected PORT, ADDR:PORT or [IPv6]:PORT (e.g. 9464 or 0.0.0.0:9464)';

/** Why `spec` is not "PORT", "ADDR:PORT" or "[IPv6]:PORT" (a config check names its key with it), or the spec. */
export function checkListenSpec(spec: string): ListenSpec | string {
  const bad = (why: string): string => `"${spec}": ${why}; ${EXPECTED}`;
  let address = DEFAULT_ADDRESS;
  let portText = spec.trim();
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(portText);
  if (v6) {
    address = v6[1] as string;
    portText = v6[2] as string;
    if (isIP(address) !== 6) return bad(`"${address}" is not an IPv6 address`);
  } else if (portText.includes(':')) {
    const at = portText.lastIndexOf(':');
    address = portText.slice(0, at);
    portText = portText.slice(at + 1);
    if (address.includes(':')) return bad('write an IPv6 address in brackets');
    if (isIP(address) !== 4 && address !== 'localhost') return bad(`"${address}" is not an IPv4 address`);
  }
  if (!/^\d{1,5}$/.test(portText)) return bad(`"${portText}" is not a port number`);
  const port = Number(portText);
  if (port > 65535) return bad(`port ${port} is out of range 0-65535`);
  return { address, port };
}

/** `up --metrics SPEC`: the spec, or a UserError naming the option. */
export function parseListenSpec(spec: string): ListenSpec {
  const checked = checkListenSpec(spec);
  if (typeof checked === 'string') throw new UserError(`--metrics ${checked}`);
  return checked;
}

/** Serves `registry` on GET /metrics at `spec` ("[ADDR:]PORT"). Rejects with a UserError if it cannot bind. */
export async function startMetricsServer(
  spec: string,
  registry: Registry,
  opts: { onError?: (err: Error) => void } = {},
): Promise<MetricsServer> {
  const checked = checkListenSpec(spec);
  if (typeof checked === 'string') throw new UserError(`metrics ${checked}`);
  const { address, port } = checked;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found; metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  // Scrapers keep connections alive; do not let them hold close() up.
  server.keepAliveTimeout = 5_000;
  await listen(server, address, port, spec);
  // Once listening, a server error (e.g. EMFILE on accept) is reported, never an unhandled crash.
  server.on('error', (err) => opts.onError?.(err));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('metrics server: unexpected address type');
  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, address: string, port: number, spec: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? `${where} is already in use; pick another port`
          : err.code === 'EADDRNOTAVAIL'
            ? `${address} is not an address of this host`
            : err.code === 'EACCES'
              ? `no permission to bind ${where}`
              : `cannot listen on ${where}: ${err.message}`;
      reject(new UserError(`metrics endpoint "${spec}": ${why}`));
    };
    server.once('error', onError);
    server.listen(port, address, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
