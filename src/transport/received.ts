// What every transport does with a batch it received before handing it on: messages that cannot be an
// Ethernet frame for this channel are dropped, counted, and marked with length 0.
import type { LinkEvents, MessageBatch } from './transport.js';

const ETH_HEADER = 14;

export function dropInvalidReceived(batch: MessageBatch, maxPayload: number, events: LinkEvents): void {
  const { lengths, count } = batch;
  for (let i = 0; i < count; i++) {
    const len = lengths[i] as number;
    if (len > maxPayload) {
      events.onDrop('oversize', 'rx', len, { batch, index: i });
      lengths[i] = 0;
    } else if (len < ETH_HEADER) {
      events.onDrop('runt', 'rx', len, { batch, index: i });
      lengths[i] = 0;
    }
  }
}
