// The negotiation state machine of spec §6: probe, resend, reply, fallback, late upgrade.
import { describe, expect, it } from 'vitest';
import { FragNegotiator, PROBE, PROBE_REPLY, buildProbe, encodeProbe, parseProbe } from '../../../src/framing/index.js';

function reply(nonce: number, maxFrame = 1514): Buffer {
  const b = Buffer.alloc(60);
  encodeProbe(b, 0, { type: PROBE_REPLY, version: 1, maxFrame, nonce });
  return b;
}

describe('FragNegotiator', () => {
  it('switches to frag on a reply with the current nonce and limits frames to the peer maxFrame', () => {
    const n = new FragNegotiator();
    const probe = parseProbe(n.start(0), 0, 60);
    expect(probe).toMatchObject({ type: PROBE, version: 1, maxFrame: 9014 });
    expect(n.state).toBe('probing');
    expect(n.onControl(reply(probe!.nonce ^ 1), 0, 60)).toEqual({ send: null, outcome: null });
    expect(n.state).toBe('probing');
    expect(n.onControl(reply(probe!.nonce), 0, 60)).toEqual({ send: null, outcome: 'frag' });
    expect(n.state).toBe('frag');
    expect(n.sendMaxFrame).toBe(1514);
  });

  it('resends every 500 ms with the same nonce and falls back to raw at 1500 ms', () => {
    const n = new FragNegotiator();
    const nonce = parseProbe(n.start(1000), 0, 60)!.nonce;
    expect(n.poll(1499).send).toBeNull();
    const again = n.poll(1500).send!;
    expect(parseProbe(again, 0, 60)!.nonce).toBe(nonce);
    expect(n.poll(2000).send).not.toBeNull();
    expect(n.poll(2499)).toEqual({ send: null, outcome: null });
    expect(n.poll(2500)).toEqual({ send: null, outcome: 'raw' });
    expect(n.state).toBe('raw');
    expect(n.poll(5000)).toEqual({ send: null, outcome: null });
    // A late reply upgrades (spec §6.4 allows it; the bridge decides whether to act on it).
    expect(n.onControl(reply(nonce), 0, 60).outcome).toBe('frag');
  });

  it('answers a PROBE from the peer with its nonce and learns that the peer speaks frag', () => {
    const n = new FragNegotiator({ maxFrame: 1514 });
    n.start(0);
    n.poll(1500);
    expect(n.state).toBe('raw');
    const step = n.onControl(buildProbe(0xabcdef01, 9014), 0, 60);
    expect(parseProbe(step.send!, 0, 60)).toEqual({ type: PROBE_REPLY, version: 1, maxFrame: 1514, nonce: 0xabcdef01 });
    expect(step.outcome).toBe('frag');
    // Peer probes again (it restarted): answered, no new outcome.
    const again = n.onControl(buildProbe(7, 9014), 0, 60);
    expect(again.send).not.toBeNull();
    expect(again.outcome).toBeNull();
  });

  it('ignores replies before start and invalid control messages', () => {
    const n = new FragNegotiator();
    expect(n.onControl(reply(0), 0, 60)).toEqual({ send: null, outcome: null });
    expect(n.state).toBe('idle');
    expect(n.onControl(Buffer.alloc(60), 0, 60)).toEqual({ send: null, outcome: null });
  });
});
