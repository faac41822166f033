// Runs a PeerHealth (from the built dist/) inside whatever namespace this process was started in
// (`ip netns exec NS node probe-child.mjs IFNAME PEER INTERVAL_MS`), printing one JSON line per
// reachability change; "stop" on stdin stops it and prints the final state. The process then exits
// by itself only if stop() left no socket or timer behind.
import { createInterface } from 'node:readline';
import { PeerHealth } from '../../../dist/src/health/peer-health.js';

const [ifname, peerAddress, interval] = process.argv.slice(2);
const health = new PeerHealth({
  ifname,
  peerAddress,
  intervalMs: Number(interval),
  timeoutMs: Number(interval),
  failAfter: 3,
  onChange: (reachable, state) => console.log(JSON.stringify({ event: 'change', reachable, state })),
});
health.start();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'stop') {
    health.stop();
    console.log(JSON.stringify({ event: 'stopped', state: health.state }));
    lines.close();
    process.stdin.destroy();
  }
});
