// Tells when an fd becomes readable (a listening socket with a connection waiting), on the event loop.
import { addon, type NativeFdWatch } from './addon.js';

export class FdWatch {
  readonly #native: NativeFdWatch;

  /** Calls onReadable() on every readable wakeup until close(). Does not own or close the fd. */
  constructor(fd: number, onReadable: () => void) {
    this.#native = new (addon().FdWatch)(fd, () => onReadable());
  }

  /** Stops watching; safe to call twice. */
  close(): void {
    this.#native.close();
  }
}
