// AF_UNIX SOCK_SEQPACKET socket pairs for the sim ring, and closing raw fds. All fds are non-blocking
// and close-on-exec.
import { addon } from './addon.js';

export function seqpacketPair(): [number, number] {
  return addon().seqpacketPair();
}

/** Closes an fd nobody else owns (a DataPlane closes the fds handed to it). */
export function closeFd(fd: number): void {
  addon().closeFd(fd);
}
