// Undoing an in-place change of a running channel (reload) that failed part way.
import type { Logger } from '../src/log.js';

/** Runs `undo`'s steps newest first; a step that fails is logged and the others still run. */
export function undoSteps(undo: (() => void)[], log: Logger, ifname: string): void {
  for (const step of undo.reverse()) {
    try {
      step();
    } catch (e) {
      log.error({ ifname, err: (e as Error).message }, `${ifname}: undoing a change: ${(e as Error).message}`);
    }
  }
}
