// A NOTIFY_SOCKET for tests: a datagram socket bound by a python3 child (Node has no AF_UNIX datagram
// sockets), which reports every message it receives.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { requireTools } from './tools.js';

export interface NotifyMessage {
  atMs: number;
  /** Parsed "KEY=VALUE" lines. */
  fields: Record<string, string>;
  raw: string;
}

export class NotifyListener {
  readonly messages: NotifyMessage[] = [];
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];
  readonly listening: Promise<void>;

  constructor(readonly path: string) {
    requireTools('python3');
    this.child = spawn('python3', [join(import.meta.dirname, 'notify-listener.py'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let onListening!: () => void;
    this.listening = new Promise((resolve) => (onListening = resolve));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { listening?: string; atMs: number; message: string };
      if (m.listening) return onListening();
      const fields = Object.fromEntries(m.message.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      this.messages.push({ atMs: m.atMs, fields, raw: m.message });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves with the first message (past or future) that has KEY=VALUE. */
  async waitFor(key: string, value: string, timeoutMs = 60_000): Promise<NotifyMessage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.fields[key] === value);
      if (found) return found;
      if (Date.now() > end) throw new Error(`no ${key}=${value} on ${this.path} within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.raw))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  close(): void {
    this.child.kill();
  }
}
