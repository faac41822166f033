// Readiness notification for a systemd Type=notify service. Node cannot send on the datagram socket in
// $NOTIFY_SOCKET itself, so this uses systemd-notify (the unit sets NotifyAccess=all for it).
import { execFile } from 'node:child_process';

export function notifySystemd(state: string): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [state], (err) => {
    if (err) process.stderr.write(`rpmsg-eth: systemd-notify ${state} failed: ${err.message}\n`);
  });
}
