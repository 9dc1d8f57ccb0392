// Input to photon as a person sees it: Debian's Chromium runs the portal's remote view of a desktop
// (bench/run-remote.sh view with VIEW_CLIENT=browser starts everything and this script in the
// client namespace). A benchmark, not a test. Env: BENCH_URL (the portal), BENCH_USERNAME,
// BENCH_PASSWORD, BENCH_TARGET (the desktop's name), BENCH_PRESSES (50), BENCH_CHROMIUM, BENCH_TRACE (a
// file for each press's send and sight times, wall clock, for bench/view-split.py).
//
// Each press is a Space keydown/keyup dispatched on the view's stage inside the page (no DevTools
// round trip in the measured time); the desktop's page flips its centre square black <-> white on
// every key (bench/view-page.html). The time runs from the dispatch to the first presented video
// frame (requestVideoFrameCallback) whose centre has the new colour.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../portal/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env('BENCH_URL').replace(/\/$/, '');
const PRESSES = Number(env('BENCH_PRESSES', '50'));
const browser = await chromium.launch({
  executablePath: env('BENCH_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${BASE}/#/login`);
  await page.fill('[data-testid="login-username"]', env('BENCH_USERNAME'));
  await page.fill('[data-testid="login-password"]', env('BENCH_PASSWORD'));
  await page.click('[data-testid="login-submit"]');
  const row = `[data-testid="desktop-row"][data-name="${env('BENCH_TARGET')}"]`;
  await page.waitForSelector(`${row} [data-testid="desktop-connect"]:not([disabled])`, { timeout: 30_000 });
  await page.click(`${row} [data-testid="desktop-connect"]`);
  await page.click('[data-testid="mode-control"]');
  await page.waitForSelector('[data-testid="session-state"][data-state="connected"]', { timeout: 30_000 });
  const path = await page.getAttribute('[data-testid="path"]', 'data-path');
  await page.waitForTimeout(3000); // the first frames, the encoder's ramp-up
  const result = await page.evaluate(async (presses) => {
    const video = document.querySelector('[data-testid="remote-video"]');
    const stage = document.querySelector('[data-testid="stage"]');
    stage.focus();
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const white = () => {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const [r, g, b] = context.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data;
      return r + g + b > 3 * 128;
    };
    const nextFrame = () => new Promise((resolve) => video.requestVideoFrameCallback((now) => resolve(now)));
    const key = (type) => stage.dispatchEvent(new KeyboardEvent(type, { code: 'Space', key: ' ', bubbles: true, cancelable: true }));
    const times = [];
    const trace = [];
    let lost = 0;
    for (let i = 0; i < presses + 5; i++) {
      await nextFrame();
      const was = white();
      const sent = performance.now();
      key('keydown');
      key('keyup');
      let seen;
      while (performance.now() - sent < 3000) {
        const shown = await Promise.race([nextFrame(), new Promise((r) => setTimeout(() => r(undefined), 500))]);
        if (shown !== undefined && white() !== was) {
          seen = shown;
          break;
        }
      }
      if (seen === undefined) lost++;
      else if (i >= 5) {
        times.push(Math.max(0, seen - sent));
        trace.push([performance.timeOrigin + sent, performance.timeOrigin + seen]);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    times.sort((a, b) => a - b);
    const at = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
    return { p50: at(50), p95: at(95), max: times.at(-1), count: times.length, lost, size: `${video.videoWidth}x${video.videoHeight}`, trace };
  }, PRESSES);
  console.log(
    `browser input to photon (${path}, ${result.size}): p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms,` +
      ` max ${result.max.toFixed(1)} ms over ${result.count} presses (${result.lost} without a change within 3 s)`,
  );
  if (process.env.BENCH_TRACE) {
    // Wall-clock milliseconds of each press's send and sight, for bench/view-split.py.
    writeFileSync(process.env.BENCH_TRACE, result.trace.map(([a, b]) => `${a} ${b}`).join('\n') + '\n');
  }
} finally {
  await browser.close();
}
