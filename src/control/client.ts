// Sends one request to the running daemon's control socket.
import { createConnection } from 'node:net';
import { UserError } from '../util/errors.js';
import type { ControlResponse, LineReplies, LineRequest } from './protocol.js';

/** The one line a client prints when it cannot reach the daemon. */
export function connectError(path: string, err: NodeJS.ErrnoException): UserError {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new UserError(`no rpmsg-eth daemon is running (nothing listens on ${path}); start one with "rpmsg-eth up"`, 1);
  }
  if (err.code === 'EACCES') return new UserError(`permission denied on ${path}: the control socket is for root only`, 1);
  return new UserError(`cannot reach the daemon on ${path}: ${err.message}`, 1);
}

/**
 * `timeoutMs` 0 waits as long as it takes. On one of `endOn` (e.g. SIGINT), the request side is closed:
 * the daemon ends what it was doing and still sends its answer.
 */
export function controlRequest<R extends LineRequest>(
  path: string,
  req: R,
  timeoutMs = 5000,
  endOn: NodeJS.Signals[] = [],
): Promise<LineReplies[R['cmd']]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path, allowHalfOpen: true });
    let buf = '';
    const fail = (err: UserError) => {
      sock.destroy();
      reject(err);
    };
    const endRequest = () => sock.end();
    for (const sig of endOn) process.once(sig, endRequest);
    sock.once('close', () => {
      for (const sig of endOn) process.off(sig, endRequest);
    });
    if (timeoutMs > 0) sock.setTimeout(timeoutMs, () => fail(new UserError(`no answer from the daemon on ${path} within ${timeoutMs} ms`, 1)));
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => (buf += chunk));
    sock.once('end', () => {
      sock.destroy();
      try {
        const res = JSON.parse(buf) as ControlResponse<LineReplies[R['cmd']]>;
        if (res.ok) resolve(res.result);
        else reject(new UserError(`the daemon refused "${req.cmd}": ${res.error}`, 1));
      } catch {
        reject(new UserError(`garbled answer from the daemon on ${path}`, 1));
      }
    });
    sock.once('error', (err: NodeJS.ErrnoException) => fail(connectError(path, err)));
  });
}
