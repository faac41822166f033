// The control socket's path rules and connection limits (issue 13, items 4 and 9): each case below was
// a deleted file, a stack trace, a silently truncated path or an unbounded pile of idle connections.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControlServer, MAX_SOCKET_PATH } from '../../../src/control/server.js';
import { UserError } from '../../../src/util/errors.js';
import { cliPath } from '../../helpers/daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'rpe-control-'));
/** A reply of the right shape (`status` with no channels). */
const FINE = { channels: [] };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startError(path: string): Promise<UserError> {
  const server = new ControlServer(path, () => FINE);
  try {
    await server.start();
  } catch (err) {
    await server.close();
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  await server.close();
  throw new Error('expected start() to refuse the path');
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path, () => resolve(sock));
    sock.once('error', reject);
  });
}

function closedWithin(sock: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function request(path: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const sock = createConnection(path, () => sock.write(line));
    sock.setEncoding('utf8').on('data', (d: string) => (out += d));
    sock.once('close', () => resolve(out));
    sock.once('error', reject);
  });
}

describe('control socket path', () => {
  it('an existing regular file is refused and left alone', async () => {
    const path = join(dir, 'file.sock');
    writeFileSync(path, 'precious\n');
    expect((await startError(path)).message).toBe(`control socket ${path} exists and is a regular file: refusing to replace it; remove it or choose another --control-socket`);
    expect(readFileSync(path, 'utf8')).toBe('precious\n');
  });

  it('a directory is refused with one line', async () => {
    const path = join(dir, 'a-dir');
    mkdirSync(path);
    expect((await startError(path)).message).toMatch(/exists and is a directory: refusing to replace it/);
    expect(existsSync(path)).toBe(true);
  });

  it('a path longer than a Unix socket address holds is refused, not truncated', async () => {
    const path = join(dir, 'x'.repeat(MAX_SOCKET_PATH));
    expect((await startError(path)).message).toMatch(new RegExp(`: ${Buffer.byteLength(path)} bytes, but a Unix socket path holds at most 107`));
    expect(existsSync(path.slice(0, MAX_SOCKET_PATH))).toBe(false);
  });

  it('up exits 1 with that one line (it used to hang after "stopped")', () => {
    const path = join(dir, 'y'.repeat(MAX_SOCKET_PATH));
    const r = spawnSync(process.execPath, [cliPath, 'up', '--control-socket', path, '--log-format', 'json', '--netns', 'rpe-ctl-lnx', '--peer-netns', 'rpe-ctl-vx', '--channels', '1'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rpmsg-eth: control socket .*: \d+ bytes, but a Unix socket path holds at most 107/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('control connections', () => {
  it('a malformed request gets an error reply and the server goes on', async () => {
    const path = join(dir, 'malformed.sock');
    const seen: unknown[] = [];
    const server = new ControlServer(path, (req) => (seen.push(req), FINE));
    await server.start();
    try {
      expect(JSON.parse(await request(path, '{not json\n'))).toMatchObject({ ok: false });
      // Well-formed JSON, but not a request: refused by the protocol's schema, never handed to the daemon.
      const refused: Array<[string, RegExp]> = [
        ['[]', /invalid request: not a JSON object/],
        ['{"cmd":"reboot"}', /invalid request: unknown command "reboot"/],
        ['{"cmd":42}', /invalid request: cmd: expected the name of a command/],
        ['{"cmd":"peer-restart","channel":"3"}', /invalid request: channel: /],
        ['{"cmd":"peer-restart","channel":-1}', /invalid request: channel: /],
        ['{"cmd":"status","channel":1}', /invalid request: .*unrecognized key/i],
      ];
      for (const [line, why] of refused) {
        const reply = JSON.parse(await request(path, `${line}\n`)) as { ok: boolean; error: string };
        expect(reply.ok, line).toBe(false);
        expect(reply.error, line).toMatch(why);
      }
      expect(seen).toEqual([]);
      expect(JSON.parse(await request(path, '{"cmd":"stats"}\n'))).toEqual({ ok: true, result: FINE });
      expect(seen).toEqual([{ cmd: 'stats' }]);
    } finally {
      await server.close();
    }
  });

  it('a connection that sends no whole request is closed after the request timeout', async () => {
    const path = join(dir, 'idle.sock');
    const server = new ControlServer(path, () => FINE, { requestTimeoutMs: 200 });
    await server.start();
    try {
      const idle = await connect(path);
      idle.write('{"cmd":'); // never finished
      expect(await closedWithin(idle, 3000)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('connections beyond the cap are closed; room returns when others close', async () => {
    const path = join(dir, 'cap.sock');
    const server = new ControlServer(path, () => FINE, { maxConnections: 3 });
    await server.start();
    try {
      const held = await Promise.all([connect(path), connect(path), connect(path)]);
      const extra = await connect(path).catch(() => undefined);
      if (extra) expect(await closedWithin(extra, 3000)).toBe(true);
      for (const s of held) expect(s.destroyed).toBe(false);
      held[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect(JSON.parse(await request(path, '{"cmd":"stats"}\n'))).toEqual({ ok: true, result: FINE });
      for (const s of held) s.destroy();
    } finally {
      await server.close();
    }
  });
});
