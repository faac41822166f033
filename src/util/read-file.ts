// Reading a file a user named, bounded: only a regular file, only up to a size, and never blocking (a FIFO
// or a device such as /dev/zero is refused instead of read forever). The error is one line naming the file.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from './errors.js';

/** The file's bytes, or a UserError (exitCode) saying why it is not read. `what` names it: "config". */
export function readRegularFile(path: string, opts: { what: string; maxBytes: number; name?: string; exitCode?: number }): Buffer {
  const name = opts.name ?? path;
  const fail = (why: string): never => {
    throw new UserError(`${name}: cannot read ${opts.what}: ${why}`, opts.exitCode ?? 2);
  };
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO nobody writes to returns at once instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENXIO' ? 'not a regular file' : (err as Error).message);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return fail('is a directory');
    if (!st.isFile()) return fail(`not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'special'})`);
    if (st.size > opts.maxBytes) return fail(`${st.size} bytes, more than the ${opts.maxBytes} a ${opts.what} may have`);
    // Read to the limit + 1 so that a file that grew since fstat is still caught.
    const buf = Buffer.alloc(opts.maxBytes + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > opts.maxBytes) return fail(`more than the ${opts.maxBytes} bytes a ${opts.what} may have`);
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
