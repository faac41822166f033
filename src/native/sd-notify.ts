// One sd_notify(3) message to the socket in $NOTIFY_SOCKET, sent by this process.
import { addon } from './addon.js';

/** `socketPath`: "/path" or "@abstract"; `state`: "KEY=VALUE" lines. Throws when the send fails. */
export function sdNotify(socketPath: string, state: string): void {
  addon().sdNotify(socketPath, state);
}
