#!/usr/bin/env node
// The browser-isolation end-to-end test, driven through the portal in Debian's Chromium
// (playwright-core, which never downloads a browser): log in, launch a container of an image
// whose START_URL is the test page (e2e/page/index.html), control it (click, copy), then watch it
// in a view-only session (clicks must not reach it), and delete the container.
//
// Run from a checkout whose portal/ had `npm ci`:  node portal/e2e/rbi.mjs
// Environment:
//   AIRLOCK_E2E_URL          the portal's base URL, e.g. http://10.0.0.1:8080 (required)
//   AIRLOCK_E2E_USERNAME     a user who may launch the image and connect to its containers (required)
//   AIRLOCK_E2E_PASSWORD     their password, not a one-time one (required)
//   AIRLOCK_E2E_IMAGE        the image's name; it must have an editable START_URL variable and a
//                            clipboard policy of read or both (required)
//   AIRLOCK_E2E_PAGE_URL     where the remote browser finds the test page, passed as START_URL;
//                            its server must also answer GET /clicks with {"clicked":N} (required)
//   AIRLOCK_E2E_SCREENSHOTS  a directory for login.png, home.png, remote-control.png,
//                            remote-view.png (and failure.png); none taken when unset
//   AIRLOCK_E2E_TIMEOUT_MS   the longest wait of any one step (default 120000)
//   AIRLOCK_E2E_CHROMIUM     the browser (default /usr/bin/chromium)
//   AIRLOCK_E2E_CLICKS_URL   where this script reads GET /clicks (default AIRLOCK_E2E_PAGE_URL);
//                            when unreachable, the click checks rely on the picture alone and
//                            the page server's owner checks the count
// Output: one JSON line per step ({"step","ok","ms",…}); on the first failure a line with
// "ok":false and "error", then exit status 1 (2 for a bad environment).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** The text the test page's copy button copies (e2e/page/index.html, #copy-text). */
export const CLIPBOARD_TEXT = 'airlock-e2e-clipboard-5b7d1c93f2';
/** The page's colours before and after a click on its big button. */
const RED = [0xd0, 0x30, 0x30];
const GREEN = [0x30, 0xa0, 0x50];
/** Where the background is sampled, in fractions of the display (clear of both buttons). */
const BACKGROUND = [0.05, 0.5];
/** Where to click, in fractions of the display: the big button's centre, the copy strip. */
const BIG_BUTTON = [0.5, 0.47];
const COPY_BUTTON = [0.5, 0.95];
/** The text field (72–80 % of the height); what is typed there reaches the test server. */
const TEXT_FIELD = [0.5, 0.76];
/** Typed in the remote page: shifted characters and punctuation go by keysym, not key position. */
export const TYPED_TEXT = 'Hello, Airlock @ 42!';

function env(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    if (fallback === undefined) {
      console.log(JSON.stringify({ step: 'environment', ok: false, error: `${name} is not set (see the top of e2e/rbi.mjs)` }));
      process.exit(2);
    }
    return fallback;
  }
  return value;
}

const BASE = env('AIRLOCK_E2E_URL').replace(/\/+$/, '');
const USERNAME = env('AIRLOCK_E2E_USERNAME');
const PASSWORD = env('AIRLOCK_E2E_PASSWORD');
const IMAGE = env('AIRLOCK_E2E_IMAGE');
const PAGE_URL = env('AIRLOCK_E2E_PAGE_URL');
const SCREENSHOTS = env('AIRLOCK_E2E_SCREENSHOTS', '');
const TIMEOUT = Number(env('AIRLOCK_E2E_TIMEOUT_MS', '120000'));
const CHROMIUM = env('AIRLOCK_E2E_CHROMIUM', '/usr/bin/chromium');
// Where this process reads the click count (GET /clicks), when it reaches the page's server by
// another address than the remote browser does; default AIRLOCK_E2E_PAGE_URL.
const CLICKS_BASE = env('AIRLOCK_E2E_CLICKS_URL', PAGE_URL);
if (!Number.isFinite(TIMEOUT) || TIMEOUT <= 0) {
  console.log(JSON.stringify({ step: 'environment', ok: false, error: `AIRLOCK_E2E_TIMEOUT_MS: ${process.env.AIRLOCK_E2E_TIMEOUT_MS} (expected: a positive number of milliseconds)` }));
  process.exit(2);
}

class StepFailure extends Error {}
const fail = (message) => {
  throw new StepFailure(message);
};

const consoleErrors = [];
let context;
let page;
let userDataDir;
let containerId;
let containerDeleted = false;

async function step(name, body) {
  const started = Date.now();
  try {
    const details = (await body()) ?? {};
    console.log(JSON.stringify({ step: name, ok: true, ms: Date.now() - started, ...details }));
    return details;
  } catch (error) {
    const message = error instanceof StepFailure ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
    console.log(JSON.stringify({ step: name, ok: false, ms: Date.now() - started, error: message, ...(consoleErrors.length ? { consoleErrors: consoleErrors.slice(-5) } : {}) }));
    await screenshot('failure').catch(() => undefined);
    await cleanUp();
    process.exit(1);
  }
}

async function screenshot(name) {
  if (!SCREENSHOTS || !page) return undefined;
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

const byTestId = (id) => `[data-testid="${id}"]`;

/** Polls `probe` until it returns a truthy value; fails with `what()` after `ms`. */
async function until(probe, what, ms = TIMEOUT, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) fail(`${typeof what === 'function' ? await what() : what} (waited ${ms} ms)`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** An attribute of the first match, or null when nothing matches (without waiting). */
async function attr(selector, name) {
  const element = await page.$(selector);
  return element ? element.getAttribute(name) : null;
}

async function text(selector) {
  const element = await page.$(selector);
  return element ? ((await element.textContent()) ?? '').trim() : undefined;
}

/**
 * The test server's click count, or undefined when this process cannot reach it (e.g. it runs in
 * another network namespace than the page's server, whose own count then is the judge).
 */
async function clicks() {
  const url = new URL('/clicks', CLICKS_BASE);
  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch {
    return undefined;
  }
  if (!response.ok) fail(`GET ${url} answered ${response.status} (expected 200 with {"clicked":N})`);
  const body = await response.json();
  if (typeof body.clicked !== 'number') fail(`GET ${url} answered ${JSON.stringify(body)} (expected {"clicked":N})`);
  return body.clicked;
}

/** What the remote page's text field holds, as its server last heard; undefined when unreachable. */
async function typed() {
  try {
    const response = await fetch(new URL('/clicks', CLICKS_BASE), { signal: AbortSignal.timeout(5_000) });
    return (await response.json()).typed;
  } catch {
    return undefined;
  }
}

/** The average colour of a 5×5 block of the current video frame at fractions (fx, fy); undefined before frames. */
async function sample([fx, fy]) {
  return page.evaluate(
    ([fx, fy]) => {
      const video = document.querySelector('[data-testid="remote-video"]');
      if (!video || video.readyState < 2 || !video.videoWidth || !video.videoHeight) return undefined;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      const x = Math.min(Math.max(Math.floor(fx * canvas.width) - 2, 0), canvas.width - 5);
      const y = Math.min(Math.max(Math.floor(fy * canvas.height) - 2, 0), canvas.height - 5);
      const data = context.getImageData(x, y, 5, 5).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) {
        sum[0] += data[i];
        sum[1] += data[i + 1];
        sum[2] += data[i + 2];
      }
      return { rgb: sum.map((v) => Math.round(v / 25)), width: video.videoWidth, height: video.videoHeight };
    },
    [fx, fy],
  );
}

/** Whether `rgb` is `expected` give or take the codec's error. */
const near = (rgb, expected) => rgb && rgb.every((v, i) => Math.abs(v - expected[i]) <= 48);
const hex = (rgb) => (rgb ? `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}` : 'no frame');

/** The page point showing the display point at fractions (fx, fy) of the display (object-fit: contain). */
async function displayPoint([fx, fy]) {
  const geometry = await page.evaluate(() => {
    const video = document.querySelector('[data-testid="remote-video"]');
    const rect = video.getBoundingClientRect();
    return {
      left: rect.left,
      top: rect.top,
      width: rect.width,
      height: rect.height,
      displayWidth: Number(video.dataset.displayWidth) || video.videoWidth,
      displayHeight: Number(video.dataset.displayHeight) || video.videoHeight,
    };
  });
  const { left, top, width, height, displayWidth, displayHeight } = geometry;
  if (!displayWidth || !displayHeight) fail('the remote display size is unknown (no hello from the agent, no video frame)');
  const scale = Math.min(width / displayWidth, height / displayHeight);
  const offsetX = (width - displayWidth * scale) / 2;
  const offsetY = (height - displayHeight * scale) / 2;
  const display = { x: Math.floor(fx * displayWidth), y: Math.floor(fy * displayHeight) };
  return {
    x: left + offsetX + (display.x + 0.5) * scale,
    y: top + offsetY + (display.y + 0.5) * scale,
    display,
    displaySize: [displayWidth, displayHeight],
  };
}

async function clickDisplay(fractions) {
  const point = await displayPoint(fractions);
  await page.mouse.move(point.x, point.y, { steps: 4 });
  await page.waitForTimeout(150);
  await page.mouse.down();
  await page.waitForTimeout(80);
  await page.mouse.up();
  return point;
}

/** Waits for the remote view's session to be connected peer to peer in `mode`. */
async function awaitConnected(mode) {
  await page.waitForSelector(byTestId('remote'), { timeout: TIMEOUT });
  await until(
    async () => {
      const badge = await page.$(byTestId('session-state'));
      const value = badge && (await badge.getAttribute('data-state'));
      if (value === 'ended') fail(`the session ended: ${await text(byTestId('session-ended-reason'))}`);
      return value === 'connected';
    },
    async () => `no connected ${mode} session (state: ${await text(byTestId('session-state'))})`,
  );
  const path = await attr(byTestId('path'), 'data-path');
  if (path !== 'p2p') fail(`the session took the ${path} path: the relay carries no video, so this test needs peer to peer`);
  const shownMode = await attr(byTestId('mode'), 'data-mode');
  if (shownMode !== mode) fail(`the agent granted mode ${shownMode} (expected ${mode})`);
  return { path, mode: shownMode, pathShown: await text(byTestId('path')) };
}

/** Waits for video frames. */
async function awaitVideo() {
  const frame = await until(async () => sample(BACKGROUND), 'no video frame arrived');
  return { video: `${frame.width}x${frame.height}` };
}

/** Waits until the remote page shows `colour` and the remote display's size holds still. */
async function awaitColour(colour, colourName) {
  const coloured = await until(
    async () => {
      const now = await sample(BACKGROUND);
      return near(now?.rgb, colour) ? now : undefined;
    },
    async () => `the remote page does not show (background ${hex((await sample(BACKGROUND))?.rgb)}, expected ${colourName} ${hex(colour)})`,
  );
  // The viewer resizes the remote display to fit: wait until its size holds still.
  let previous = '';
  await until(
    async () => {
      const size = await page.evaluate(() => {
        const video = document.querySelector('[data-testid="remote-video"]');
        return `${video.dataset.displayWidth}x${video.dataset.displayHeight}/${video.videoWidth}x${video.videoHeight}`;
      });
      const stable = size === previous;
      previous = size;
      return stable;
    },
    'the remote display size keeps changing',
    TIMEOUT,
    1500,
  );
  return { background: hex(coloured.rgb), display: previous.split('/')[0], video: previous.split('/')[1] };
}

async function openFromHome(mode) {
  await page.waitForSelector(byTestId('home'), { timeout: TIMEOUT });
  const row = byTestId('container-row') + `[data-container-id="${containerId}"]`;
  await until(async () => (await attr(row, 'data-state')) === 'ready', `container ${containerId} is not listed as ready`);
  await page.click(`${row} ${byTestId('container-open')}`);
  await page.click(byTestId(mode === 'control' ? 'mode-control' : 'mode-view'));
}

async function endSession() {
  await page.click(byTestId('end-session'));
  await page.waitForSelector(byTestId('home'), { timeout: TIMEOUT });
}

async function cleanUp() {
  if (containerId && !containerDeleted) {
    // Through the API, whatever state the page is in.
    try {
      const login = await fetch(`${BASE}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
        signal: AbortSignal.timeout(10_000),
      });
      const { accessToken } = await login.json();
      const deleted = await fetch(`${BASE}/api/v1/containers/${containerId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${accessToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      console.log(JSON.stringify({ step: 'cleanup', ok: deleted.ok, container: containerId, status: deleted.status }));
      containerDeleted = deleted.ok;
    } catch (error) {
      console.log(JSON.stringify({ step: 'cleanup', ok: false, container: containerId, error: String(error?.message ?? error) }));
    }
  }
  await context?.close().catch(() => undefined);
  context = undefined;
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
}

// ---- The steps ----------------------------------------------------------------------------

await step('browser', async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'airlock-e2e-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE).origin }).catch(() => undefined);
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text().slice(0, 300));
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error).slice(0, 300)));
  return { chromium: CHROMIUM, version: context.browser()?.version() };
});

await step('login', async () => {
  await page.goto(`${BASE}/#/login`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(byTestId('login-username'));
  const login = await screenshot('login');
  await page.fill(byTestId('login-username'), USERNAME);
  await page.fill(byTestId('login-password'), PASSWORD);
  await page.click(byTestId('login-submit'));
  const where = await until(async () => {
    if (await page.isVisible(byTestId('login-error'))) return 'error';
    if (await page.$(byTestId('password'))) return 'password';
    if (await page.$(byTestId('home'))) return 'home';
    return undefined;
  }, 'neither the home screen nor an error after signing in');
  if (where === 'error') fail(`login refused: ${await text(byTestId('login-error'))}`);
  if (where === 'password') fail(`${USERNAME} must change their password first (give the test a user whose password is set)`);
  await page.waitForSelector(`${byTestId('launch-image')}, ${byTestId('launch')} .error`);
  const home = await screenshot('home');
  return { screenshots: [login, home].filter(Boolean) };
});

await step('launch', async () => {
  const options = await page.$$eval(`${byTestId('launch-image')} option`, (list) => list.map((o) => o.value));
  if (!options.includes(IMAGE)) fail(`image ${IMAGE} is not offered (the user may launch: ${options.join(', ') || 'none'})`);
  await page.selectOption(byTestId('launch-image'), IMAGE);
  const variable = await page.$(byTestId('launch-var-START_URL'));
  if (!variable) fail(`image ${IMAGE} has no editable START_URL variable`);
  await variable.fill(PAGE_URL);
  const before = await clicks();
  if (before !== undefined && before !== 0) fail(`the test page counted ${before} clicks before the test (expected a fresh server: 0)`);
  await page.click(byTestId('launch-submit'));
  const state = await until(
    async () => {
      if (await page.isVisible(byTestId('launch-error'))) fail(`launch refused: ${await text(byTestId('launch-error'))}`);
      const progress = await page.$(byTestId('launch-progress'));
      const value = progress && (await progress.getAttribute('data-state'));
      containerId = (progress && (await progress.getAttribute('data-container-id'))) || containerId;
      return ['ready', 'failed', 'deleted', 'stopping'].includes(value) ? value : undefined;
    },
    async () => `container not ready: ${await text(byTestId('launch-progress'))}`,
  );
  if (state !== 'ready') fail(`container ${containerId} ${state}: ${await text(byTestId('launch-progress'))}`);
  return { container: containerId, state, clicksReadable: before !== undefined };
});

await step('connect', async () => {
  await page.click(byTestId('launch-open'));
  await page.click(byTestId('mode-control'));
  return awaitConnected('control');
});

await step('video', awaitVideo);

await step('rendered', async () => {
  const shown = await awaitColour(RED, 'red');
  return { ...shown, screenshot: await screenshot('remote-control') };
});

await step('click', async () => {
  const point = await clickDisplay(BIG_BUTTON);
  const after = await until(
    async () => {
      const now = await sample(BACKGROUND);
      return near(now?.rgb, GREEN) ? now : undefined;
    },
    async () => `the click at display ${point.display.x},${point.display.y} did not turn the page green (background ${hex((await sample(BACKGROUND))?.rgb)}; clicks counted: ${await clicks()})`,
    Math.min(TIMEOUT, 30_000),
  );
  let count = await clicks();
  if (count !== undefined) {
    count = await until(async () => ((await clicks()) >= 1 ? clicks() : undefined), 'the test page saw no click', 10_000);
    if (count !== 1) fail(`the test page counted ${count} clicks (expected 1)`);
  }
  return { display: point.display, displaySize: point.displaySize, background: hex(after.rgb), clicks: count ?? 'unreadable' };
});

await step('copy', async () => {
  const policy = await attr(byTestId('remote-clipboard'), 'data-policy');
  if (policy !== 'read' && policy !== 'both') fail(`the session's clipboard policy is ${policy} (the test needs read or both)`);
  const point = await clickDisplay(COPY_BUTTON);
  const copied = await until(
    async () => ((await text(byTestId('remote-clipboard'))) === CLIPBOARD_TEXT ? CLIPBOARD_TEXT : undefined),
    async () => `the remote clipboard shows "${await text(byTestId('remote-clipboard'))}" after the copy button at display ${point.display.x},${point.display.y} (expected "${CLIPBOARD_TEXT}")`,
    Math.min(TIMEOUT, 30_000),
  );
  return { text: copied, policy };
});

await step('type', async () => {
  const point = await clickDisplay(TEXT_FIELD);
  await page.waitForTimeout(300);
  await page.keyboard.type(TYPED_TEXT, { delay: 40 });
  const seen = await until(
    async () => ((await typed()) === TYPED_TEXT ? TYPED_TEXT : undefined),
    async () => `the remote text field holds "${await typed()}" after typing at display ${point.display.x},${point.display.y} (expected "${TYPED_TEXT}")`,
    Math.min(TIMEOUT, 30_000),
  );
  return { typed: seen };
});

await step('end-control', async () => {
  await endSession();
  return {};
});

await step('view', async () => {
  await openFromHome('view');
  const connected = await awaitConnected('view');
  await awaitVideo();
  const shown = await awaitColour(GREEN, 'green');
  return { ...connected, ...shown };
});

await step('view-click-ignored', async () => {
  const before = await clicks();
  const point = await clickDisplay(BIG_BUTTON);
  await page.keyboard.press('KeyA');
  await page.waitForTimeout(3000);
  const now = await sample(BACKGROUND);
  if (!near(now?.rgb, GREEN)) fail(`the picture changed in a view-only session (background ${hex(now?.rgb)})`);
  const after = await clicks();
  if (after !== before) fail(`a click in a view-only session reached the page (${before} → ${after} clicks)`);
  const text = await typed();
  if (text !== undefined && text !== TYPED_TEXT) fail(`a key in a view-only session reached the page (text field: "${text}")`);
  const shot = await screenshot('remote-view');
  return { display: point.display, clicks: after ?? 'unreadable', background: hex(now.rgb), screenshot: shot };
});

await step('end-view', async () => {
  await endSession();
  return {};
});

await step('delete', async () => {
  const row = byTestId('container-row') + `[data-container-id="${containerId}"]`;
  await page.click(`${row} ${byTestId('container-delete')}`);
  await until(async () => {
    const state = await attr(row, 'data-state');
    return state === null || state === 'stopping' || state === 'deleted';
  }, `container ${containerId} is still listed after delete`);
  containerDeleted = true;
  return { container: containerId };
});

await cleanUp();
console.log(JSON.stringify({ step: 'done', ok: true }));
