// Unit tests of the remote view's pure rules (geometry, input mapping), compiled by
// tsconfig.test.json into target/test-build. The browser flows are covered by e2e/rbi.mjs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { contentBox, resizeRequest, toDisplay, toElement } from '../target/test-build/remote/geometry.js';
import { PressedKeys, WheelAccumulator, backoffMs, canRead, canWrite, parseMessage, protocolButton } from '../target/test-build/remote/input.js';

describe('geometry', () => {
  it('letterboxes a wide display in a tall element, and pillarboxes the other way', () => {
    assert.deepEqual(contentBox({ width: 800, height: 800 }, { width: 1600, height: 900 }), { left: 0, top: 175, width: 800, height: 450, scale: 0.5 });
    assert.deepEqual(contentBox({ width: 1000, height: 450 }, { width: 1600, height: 900 }), { left: 100, top: 0, width: 800, height: 450, scale: 0.5 });
  });

  it('maps element points to display pixels, clamped to the display, and back', () => {
    const element = { width: 1000, height: 450 };
    const display = { width: 1600, height: 900 };
    assert.deepEqual(toDisplay(100, 0, element, display), { x: 0, y: 0 });
    assert.deepEqual(toDisplay(500, 225, element, display), { x: 800, y: 450 });
    assert.deepEqual(toDisplay(10, 449.9, element, display), { x: 0, y: 899 }); // in the left bar
    assert.deepEqual(toDisplay(2000, -5, element, display), { x: 1599, y: 0 });
    const back = toElement(800, 450, element, display);
    assert.deepEqual(toDisplay(back.x, back.y, element, display), { x: 800, y: 450 });
    assert.equal(toDisplay(1, 1, element, { width: 0, height: 0 }), undefined);
  });

  it('asks for a display within the agent limits', () => {
    assert.deepEqual(resizeRequest({ width: 1280.4, height: 671.6 }), { width: 1280, height: 672 });
    assert.deepEqual(resizeRequest({ width: 100, height: 5000 }), { width: 320, height: 2160 });
    assert.equal(resizeRequest({ width: 0, height: 10 }), undefined);
  });
});

describe('input', () => {
  it('maps DOM buttons to the protocol (1 left, 2 middle, 3 right)', () => {
    assert.deepEqual([0, 1, 2, 3].map(protocolButton), [1, 2, 3, undefined]);
  });

  it('adds wheel deltas up into notches, keeping the remainder', () => {
    const wheel = new WheelAccumulator();
    assert.deepEqual(wheel.add(0, 100, 0), { dx: 0, dy: 1 });
    assert.equal(wheel.add(0, 40, 0), undefined);
    assert.deepEqual(wheel.add(0, 70, 0), { dx: 0, dy: 1 });
    assert.deepEqual(wheel.add(0, -6, 1), { dx: 0, dy: -1 }); // 0.1 left over, minus 2
    assert.deepEqual(wheel.add(-1, 0, 2), { dx: -1, dy: 0 });
  });

  it('sends a key once while held and only releases what it pressed', () => {
    const keys = new PressedKeys();
    assert.equal(keys.track('KeyA', true), true);
    assert.equal(keys.track('KeyA', true), false); // auto-repeat
    assert.equal(keys.track('KeyA', false), true);
    assert.equal(keys.track('KeyB', false), false); // pressed before focus
    keys.track('ShiftLeft', true);
    assert.equal(keys.size, 1);
    keys.clear();
    assert.equal(keys.size, 0);
  });

  it('follows the clipboard policy and the mode', () => {
    assert.deepEqual(['none', 'read', 'write', 'both'].map((p) => canRead(p)), [false, true, false, true]);
    assert.deepEqual(['none', 'read', 'write', 'both'].map((p) => canWrite(p, 'control')), [false, false, true, true]);
    assert.equal(canWrite('both', 'view'), false);
  });

  it('parses channel messages and ignores anything else', () => {
    const bytes = (text) => new TextEncoder().encode(text);
    assert.deepEqual(parseMessage(bytes('{"type":"screen","width":800,"height":600}')), { type: 'screen', width: 800, height: 600 });
    assert.equal(parseMessage(bytes('not json')), undefined);
    assert.equal(parseMessage(bytes('{"kind":"x"}')), undefined);
    assert.equal(parseMessage(bytes('[1]')), undefined);
  });

  it('backs off from 1 s, doubling to 30 s, with jitter', () => {
    assert.equal(backoffMs(1, () => 0.5), 1000);
    assert.equal(backoffMs(3, () => 0.5), 4000);
    assert.equal(backoffMs(10, () => 0.5), 30000);
    assert.equal(backoffMs(1, () => 0), 800);
    assert.equal(backoffMs(1, () => 1), 1200);
  });
});
