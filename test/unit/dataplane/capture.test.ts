// Capture in the native data plane against the control plane's life cycle: a capture that outlives
// its channel.
import { afterEach, describe, expect, it } from 'vitest';
import { PlaneRig, frame, put, until } from '../../helpers/plane-rig.js';

const rigs: PlaneRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

describe('capture in the data plane', () => {
  it('can be stopped after the plane was closed (a reload removed the channel while the capture ran)', async () => {
    const r = new PlaneRig({ tapSlot: 496, frag: false });
    rigs.push(r);
    r.attachDevice();
    r.capture(true);
    put(r.tap, [frame(100, 1)]);
    await until('a captured frame', () => r.captured.length === 1);
    r.plane.close();
    // runCapture's clean-up stops every channel's capture in turn: a closed one must not stop it.
    expect(() => r.capture(false)).not.toThrow();
  });
});
