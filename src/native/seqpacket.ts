// AF_UNIX SOCK_SEQPACKET sockets for the sim link, and closing raw fds. All fds are non-blocking
// and close-on-exec. A path starting with '@' is an abstract socket (per network namespace, no file).
import { addon } from './addon.js';

export function seqpacketPair(): [number, number] {
  return addon().seqpacketPair();
}

export function seqpacketListen(path: string): number {
  return addon().seqpacketListen(path);
}

/** A connected fd, or null when no connection is waiting (watch the listener with FdWatch). */
export function seqpacketAccept(listenFd: number): number | null {
  return addon().seqpacketAccept(listenFd);
}

export function seqpacketConnect(path: string): number {
  return addon().seqpacketConnect(path);
}

/** Closes an fd nobody else owns (a DataPlane closes the fds handed to it). */
export function closeFd(fd: number): void {
  addon().closeFd(fd);
}
