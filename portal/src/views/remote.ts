import { AirlockProblemError, CloseCodes, type Channel, type RemoteSession } from '@airlock/sdk';
import { airlock, describeError } from '../api.js';
import { h, replace } from '../dom.js';
import { go, type Cleanup } from '../router.js';
import { resizeRequest, toDisplay, type Size } from '../remote/geometry.js';
import {
  MAX_CLIPBOARD_BYTES,
  PressedKeys,
  WheelAccumulator,
  backoffMs,
  canRead,
  canWrite,
  parseMessage,
  protocolButton,
  type ClipboardMessage,
  type ClipboardPolicy,
  type ControlMessage,
  type InputMessage,
  type Mode,
} from '../remote/input.js';

export interface RemoteTarget {
  agentId: string;
  mode: Mode;
  name?: string;
  containerId?: string;
}

/** The channels of docs/remote-view.md. */
const CHANNELS = ['control', 'input', 'clipboard'];
/** Reconnect attempts after an unexpected drop before giving up (each with backoff). */
const MAX_ATTEMPTS = 8;
const RESIZE_DEBOUNCE_MS = 400;
/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCodes.SESSION_TERMINATED, CloseCodes.AGENT_REVOKED]);

type State = 'connecting' | 'waiting-consent' | 'connected' | 'reconnecting' | 'ended';

/**
 * The remote view: the agent's screen in a video element, mouse and keyboard sent as display
 * pixels and DOM key codes, the clipboard within the policy, consent and idle prompts, and
 * automatic reconnection when the session drops.
 */
export function remoteView(root: HTMLElement, target: RemoteTarget): Cleanup {
  const title = target.name ?? target.agentId;
  // ---- Elements -------------------------------------------------------------------------
  const video = h('video', { testid: 'remote-video', class: 'screen', autoplay: true, playsInline: true, muted: true, disablePictureInPicture: true });
  const stage = h('div', { testid: 'stage', class: 'stage', tabindex: 0, 'aria-label': `Remote screen of ${title}` }, video);
  const stateBadge = h('span', { testid: 'session-state', class: 'pill busy' }, 'connecting');
  const pathBadge = h('span', { testid: 'path', class: 'pill off', title: 'How the session travels' }, '—');
  const modeBadge = h('span', { testid: 'mode', class: 'pill', 'data-mode': target.mode }, target.mode === 'control' ? 'Control' : 'View only');
  const remoteClipboard = h('output', { testid: 'remote-clipboard', class: 'clip', title: 'The last text copied on the remote side' });
  const clipboardStatus = h('span', { testid: 'clipboard-status', class: 'muted small' });
  const pasteText = h('input', { testid: 'paste-text', placeholder: 'Text to paste remotely', maxLength: 100_000 });
  const pasteSend = h('button', { testid: 'paste-send', type: 'button' }, 'Send to remote clipboard');
  const fullscreen = h('button', { testid: 'fullscreen', type: 'button', title: 'Full screen' }, 'Full screen');
  const end = h('button', { testid: 'end-session', type: 'button', class: 'danger' }, 'End session');
  const back = h('button', { testid: 'back', type: 'button', class: 'link' }, '← Home');
  const overlay = h('div', { class: 'overlay', hidden: true });
  const banner = h('div', { class: 'banner', hidden: true });
  const consents = h('div', { class: 'consents' });
  stage.append(overlay, banner, consents);

  replace(
    root,
    h(
      'div',
      { class: 'remote', testid: 'remote' },
      h(
        'header',
        { class: 'topbar compact' },
        back,
        h('strong', { class: 'title', title: target.agentId }, title),
        modeBadge,
        pathBadge,
        stateBadge,
        h('div', { class: 'spacer' }),
        fullscreen,
        end,
      ),
      h('div', { class: 'clipbar' }, h('span', { class: 'muted small' }, 'Remote clipboard:'), remoteClipboard, clipboardStatus, h('div', { class: 'spacer' }), pasteText, pasteSend),
      stage,
    ),
  );

  // ---- Session state ----------------------------------------------------------------------
  let session: RemoteSession | undefined;
  let input: Channel | undefined;
  let control: Channel | undefined;
  let clipboard: Channel | undefined;
  let mode: Mode | undefined;
  let policy: ClipboardPolicy | undefined;
  let display: Size = { width: 0, height: 0 };
  let live = false; // hello received: input counts
  let resizable = false; // the agent lets viewers resize its display
  let leaving = false; // the user ended or left: no reconnect
  let finalReason: string | undefined; // the agent said bye, or a refusal that retrying cannot fix
  let attempt = 0;
  let generation = 0; // bumps with each connection, so stale callbacks do nothing
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let countdownTimer: ReturnType<typeof setInterval> | undefined;
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setInterval> | undefined;

  const setState = (state: State, text: string = state) => {
    stateBadge.dataset.state = state;
    stateBadge.className = `pill ${state === 'connected' ? 'ok' : state === 'ended' ? 'bad' : 'busy'}`;
    stateBadge.textContent = text;
  };
  const showOverlay = (testid: string, ...content: (Node | string)[]) => {
    overlay.dataset.testid = testid;
    replace(overlay, h('div', { class: 'overlay-box' }, ...content));
    overlay.hidden = false;
  };
  const hideOverlay = (testid?: string) => {
    if (!testid || overlay.dataset.testid === testid) {
      overlay.hidden = true;
      delete overlay.dataset.testid;
    }
  };
  const hideBanner = () => {
    banner.hidden = true;
    if (idleTimer) clearInterval(idleTimer);
    idleTimer = undefined;
  };

  const send = (channel: Channel | undefined, message: object) => {
    channel?.send(JSON.stringify(message)).catch(() => undefined);
  };
  const controlling = () => live && mode === 'control' && input !== undefined;
  const sendInput = (message: InputMessage) => {
    if (!controlling()) {
      return;
    }
    if (!banner.hidden && banner.dataset.testid === 'idle-warning') {
      hideBanner();
    }
    send(input, message);
  };

  const updateClipboardControls = () => {
    const writable = canWrite(policy, mode);
    pasteText.disabled = !writable;
    pasteSend.disabled = !writable;
    pasteSend.title = writable ? 'Set the remote clipboard to this text' : `Not allowed (clipboard policy: ${policy ?? 'unknown'}, mode: ${mode ?? target.mode})`;
    remoteClipboard.dataset.policy = policy ?? '';
    if (!canRead(policy) && policy) {
      clipboardStatus.textContent = policy === 'none' ? 'clipboard disabled by policy' : 'copy out not allowed by policy';
    }
  };

  const setDisplay = (width: number, height: number) => {
    display = { width, height };
    video.dataset.displayWidth = String(width);
    video.dataset.displayHeight = String(height);
  };

  const onControl = (message: ControlMessage, gen: number) => {
    if (gen !== generation) return;
    switch (message.type) {
      case 'hello':
        mode = message.mode;
        policy = message.clipboard;
        live = true;
        attempt = 0;
        setDisplay(message.width, message.height);
        modeBadge.textContent = mode === 'control' ? 'Control' : 'View only';
        modeBadge.dataset.mode = mode;
        updateClipboardControls();
        hideOverlay('waiting-consent');
        hideOverlay('reconnecting');
        setState('connected');
        if (mode === 'control') {
          stage.focus();
          // A virtual display (a container's) takes the viewer's size from the start; a
          // desktop keeps its resolution until the window changes.
          resizable = message.resizable === true;
          if (resizable) scheduleResize(0);
        }
        break;
      case 'screen':
        setDisplay(message.width, message.height);
        break;
      case 'waiting-consent':
        setState('waiting-consent', 'waiting for consent');
        showOverlay(
          'waiting-consent',
          h('h2', {}, 'Waiting for the owner'),
          h('p', {}, `Someone is already using ${title}. They are asked to allow your session; without an answer it starts in ${message.timeoutSeconds} s.`),
        );
        break;
      case 'consent-request':
        askConsent(message.requestId, message.username, message.mode);
        break;
      case 'consent-granted':
        hideOverlay('waiting-consent');
        break;
      case 'idle-warning':
        showIdleWarning(message.secondsLeft);
        break;
      case 'bye':
        finalReason = message.reason === 'idle' ? 'ended after a period without input' : message.reason;
        break;
      default:
      // A newer agent's message: ignored.
    }
  };

  const askConsent = (requestId: string, username: string, wanted: Mode) => {
    const box = h('div', { testid: 'consent-dialog', class: 'consent', role: 'alertdialog', 'data-request-id': requestId });
    const answer = (granted: boolean) => {
      send(control, { type: 'consent', requestId, granted });
      box.remove();
      stage.focus();
    };
    replace(
      box,
      h('p', {}, h('strong', {}, username), wanted === 'control' ? ' asks to control this session.' : ' asks to watch this session.'),
      h(
        'div',
        { class: 'buttons' },
        h('button', { testid: 'consent-allow', class: 'primary', onclick: () => answer(true) }, 'Allow'),
        h('button', { testid: 'consent-deny', class: 'danger', onclick: () => answer(false) }, 'Deny'),
      ),
    );
    consents.append(box);
  };

  const showIdleWarning = (secondsLeft: number) => {
    let left = secondsLeft;
    banner.dataset.testid = 'idle-warning';
    const text = h('span', {});
    const render = () => (text.textContent = `No input for a while: this session ends in ${Math.max(left, 0)} s.`);
    render();
    replace(
      banner,
      text,
      ' ',
      h(
        'button',
        {
          type: 'button',
          testid: 'idle-stay',
          onclick: () => {
            // Any input counts as activity; a move to where the pointer is changes nothing.
            send(input, { type: 'move', x: Math.floor(display.width / 2), y: Math.floor(display.height / 2) });
            hideBanner();
            stage.focus();
          },
        },
        'I am still here',
      ),
    );
    banner.hidden = false;
    if (idleTimer) clearInterval(idleTimer);
    idleTimer = setInterval(() => {
      left -= 1;
      render();
    }, 1000);
  };

  const onClipboard = (message: ClipboardMessage, gen: number) => {
    if (gen !== generation) return;
    if (message.type === 'text') {
      remoteClipboard.textContent = message.text;
      remoteClipboard.dataset.updated = String(Date.now());
      clipboardStatus.textContent = '';
      // Needs focus and permission; the text stays visible here either way.
      navigator.clipboard
        ?.writeText(message.text)
        .then(() => (clipboardStatus.textContent = 'copied to your clipboard'))
        .catch(() => (clipboardStatus.textContent = 'select it to copy'));
    } else if (message.type === 'refused') {
      clipboardStatus.textContent = `refused: ${message.reason}`;
    }
  };

  const sendClipboard = (text: string) => {
    if (!canWrite(policy, mode)) {
      clipboardStatus.textContent = 'paste not allowed by policy';
      return false;
    }
    if (new TextEncoder().encode(text).byteLength > MAX_CLIPBOARD_BYTES) {
      clipboardStatus.textContent = 'too long for the clipboard (at most 1 MiB)';
      return false;
    }
    send(clipboard, { type: 'text', text });
    clipboardStatus.textContent = `sent ${text.length} characters`;
    return true;
  };

  // ---- Connecting and reconnecting --------------------------------------------------------
  const connect = async () => {
    const gen = ++generation;
    live = false;
    finalReason = undefined;
    setState(attempt === 0 ? 'connecting' : 'reconnecting', attempt === 0 ? 'connecting' : `reconnecting (${attempt}/${MAX_ATTEMPTS})`);
    let opened: RemoteSession;
    try {
      opened = await airlock.connect(target.agentId, { mode: target.mode, video: true, channels: CHANNELS });
    } catch (error) {
      if (gen !== generation || leaving) return;
      if (error instanceof AirlockProblemError && error.status === 401) {
        go('/login');
        return;
      }
      const final = error instanceof AirlockProblemError && [400, 403, 404].includes(error.status);
      lost(describeError(error), final);
      return;
    }
    if (gen !== generation || leaving) {
      void opened.close();
      return;
    }
    session = opened;
    control = opened.channel('control');
    input = opened.channel('input');
    clipboard = opened.channel('clipboard');
    control.onMessage((bytes) => {
      const message = parseMessage<ControlMessage>(bytes);
      if (message) onControl(message, gen);
    });
    clipboard.onMessage((bytes) => {
      const message = parseMessage<ClipboardMessage>(bytes);
      if (message) onClipboard(message, gen);
    });
    let sessionOver = false;
    void opened.closed.then(() => (sessionOver = true));
    void control.closed.then(() =>
      setTimeout(() => {
        // The agent closed `control` while the session goes on: it has no remote view to offer.
        if (gen === generation && !leaving && !sessionOver && !live) {
          finalReason = 'the agent offers no remote view (it closed the control channel): it may need an update';
          void opened.close();
          ended(finalReason);
        }
      }, 500),
    );
    showPath(opened);
    if (opened.video) {
      hideOverlay('no-video');
      opened.video
        .then((stream) => {
          if (gen !== generation) return;
          video.srcObject = stream;
          void video.play().catch(() => undefined);
        })
        .catch(() => undefined);
    } else {
      video.srcObject = null;
      showOverlay(
        'no-video',
        h('h2', {}, 'No picture on the relay'),
        h('p', {}, 'Peer to peer failed, so this session goes through the signal node\'s relay, which carries no video. Input and the clipboard still work. Ask your administrator for a TURN server.'),
      );
    }
    if (!live) setState('connecting', 'waiting for the agent');
    void opened.closed.then((ending) => {
      if (gen !== generation || leaving) return;
      live = false;
      releaseAll();
      if (finalReason) {
        ended(finalReason);
      } else if (FINAL_CLOSE_CODES.has(ending.code)) {
        ended(`${ending.code === CloseCodes.SESSION_TERMINATED ? 'terminated by the platform' : 'the agent was revoked'}${ending.reason ? ` (${ending.reason})` : ''}`);
      } else {
        lost(`connection lost (close ${ending.code}${ending.reason ? `: ${ending.reason}` : ''})`, false);
      }
    });
  };

  const showPath = (opened: RemoteSession) => {
    pathBadge.dataset.path = opened.path;
    pathBadge.className = `pill ${opened.path === 'p2p' ? 'ok' : 'warn'}`;
    pathBadge.textContent = opened.path === 'p2p' ? 'P2P' : 'Relay';
    void opened.route().then((route) => {
      if (route.path === 'p2p' && (route.localCandidateType === 'relay' || route.remoteCandidateType === 'relay')) {
        pathBadge.textContent = 'P2P via TURN';
      }
      pathBadge.title = `path ${route.path}${route.localCandidateType ? `, candidates ${route.localCandidateType} → ${route.remoteCandidateType}` : ''}${route.protocol ? ` over ${route.protocol}` : ''}`;
    });
  };

  const lost = (why: string, final: boolean) => {
    session = undefined;
    input = control = clipboard = undefined;
    if (final || attempt >= MAX_ATTEMPTS) {
      ended(final ? why : `${why}; gave up after ${MAX_ATTEMPTS} attempts`);
      return;
    }
    attempt += 1;
    const delay = backoffMs(attempt);
    const due = Date.now() + delay;
    setState('reconnecting', `reconnecting (${attempt}/${MAX_ATTEMPTS})`);
    const countdown = h('span', {});
    const tick = () => (countdown.textContent = `${Math.max(0, Math.ceil((due - Date.now()) / 1000))} s`);
    tick();
    showOverlay(
      'reconnecting',
      h('h2', {}, 'Reconnecting…'),
      h('p', {}, `${why}. Attempt ${attempt} of ${MAX_ATTEMPTS} in `, countdown, '.'),
      h('div', { class: 'buttons' }, h('button', { testid: 'reconnect-now', class: 'primary', onclick: () => retryNow() }, 'Reconnect now')),
    );
    stopRetry();
    countdownTimer = setInterval(tick, 500);
    retryTimer = setTimeout(() => {
      stopRetry();
      void connect();
    }, delay);
  };

  const stopRetry = () => {
    if (retryTimer) clearTimeout(retryTimer);
    if (countdownTimer) clearInterval(countdownTimer);
    retryTimer = countdownTimer = undefined;
  };

  const retryNow = () => {
    stopRetry();
    hideOverlay();
    void connect();
  };

  const ended = (why: string) => {
    session = undefined;
    input = control = clipboard = undefined;
    setState('ended');
    hideBanner();
    showOverlay(
      'session-ended',
      h('h2', {}, 'Session ended'),
      h('p', { testid: 'session-ended-reason' }, why),
      h(
        'div',
        { class: 'buttons' },
        h('button', { testid: 'reconnect', class: 'primary', onclick: () => ((attempt = 0), retryNow()) }, 'Connect again'),
        h('button', { onclick: () => go('/') }, 'Home'),
      ),
    );
  };

  // ---- Input ------------------------------------------------------------------------------
  const pressed = new PressedKeys();
  const buttons = new Set<number>();
  const wheel = new WheelAccumulator();
  let pendingMove: { x: number; y: number } | undefined;
  let moveFrame = 0;
  let pendingPaste: { code: string; key: string; timer: ReturnType<typeof setTimeout> } | undefined;

  const point = (event: MouseEvent) => {
    const rect = video.getBoundingClientRect();
    const shown = display.width > 0 ? display : { width: video.videoWidth, height: video.videoHeight };
    return toDisplay(event.clientX - rect.left, event.clientY - rect.top, { width: rect.width, height: rect.height }, shown);
  };
  const releaseAll = () => {
    if (pressed.size > 0 || buttons.size > 0) {
      sendInput({ type: 'release-all' });
    }
    pressed.clear();
    buttons.clear();
  };

  stage.addEventListener('pointermove', (event) => {
    const at = point(event);
    if (!at || !controlling()) return;
    pendingMove = at;
    if (!moveFrame) {
      moveFrame = requestAnimationFrame(() => {
        moveFrame = 0;
        if (pendingMove) sendInput({ type: 'move', ...pendingMove });
        pendingMove = undefined;
      });
    }
  });
  stage.addEventListener('pointerdown', (event) => {
    stage.focus();
    const at = point(event);
    const button = protocolButton(event.button);
    if (!at || !button || !controlling() || (event.target as Element).closest('.consent, .overlay-box, .banner')) return;
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    buttons.add(button);
    pendingMove = undefined;
    sendInput({ type: 'button', button, down: true, ...at });
  });
  stage.addEventListener('pointerup', (event) => {
    const button = protocolButton(event.button);
    if (!button || !buttons.has(button)) return;
    const at = point(event);
    buttons.delete(button);
    if (at) sendInput({ type: 'button', button, down: false, ...at });
  });
  stage.addEventListener('contextmenu', (event) => event.preventDefault());
  stage.addEventListener(
    'wheel',
    (event) => {
      if (!controlling()) return;
      event.preventDefault();
      const notches = wheel.add(event.deltaX, event.deltaY, event.deltaMode);
      if (notches) sendInput({ type: 'wheel', ...notches });
    },
    { passive: false },
  );

  const sendKey = (code: string, key: string, down: boolean) => {
    if (pressed.track(code, down)) sendInput({ type: 'key', code, key, down });
  };
  const flushPaste = () => {
    if (!pendingPaste) return;
    clearTimeout(pendingPaste.timer);
    const { code, key } = pendingPaste;
    pendingPaste = undefined;
    sendKey(code, key, true);
  };
  // Keys typed into the prompts on the stage (consent, idle) stay theirs.
  const forStage = (event: Event) => event.target === stage && controlling();
  stage.addEventListener('keydown', (event) => {
    if (!forStage(event)) return;
    const pasteShortcut = event.code === 'KeyV' && (event.ctrlKey || event.metaKey) && !event.altKey && canWrite(policy, mode);
    if (pasteShortcut && !event.repeat) {
      // Let the browser fire `paste` (local clipboard → remote), then press V remotely.
      pendingPaste = { code: event.code, key: event.key, timer: setTimeout(flushPaste, 150) };
      return;
    }
    event.preventDefault();
    sendKey(event.code, event.key, true);
  });
  stage.addEventListener('keyup', (event) => {
    if (!forStage(event)) return;
    event.preventDefault();
    if (pendingPaste?.code === event.code) flushPaste();
    sendKey(event.code, event.key, false);
  });
  stage.addEventListener('paste', (event) => {
    if (!forStage(event)) return;
    event.preventDefault();
    const text = event.clipboardData?.getData('text/plain');
    if (text) sendClipboard(text);
    flushPaste();
  });
  stage.addEventListener('blur', releaseAll);
  const onWindowBlur = () => releaseAll();
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') releaseAll();
  };
  window.addEventListener('blur', onWindowBlur);
  document.addEventListener('visibilitychange', onVisibility);

  // ---- Resize, fullscreen, paste box, end -------------------------------------------------
  const scheduleResize = (delay: number = RESIZE_DEBOUNCE_MS) => {
    if (resizeTimer) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const rect = stage.getBoundingClientRect();
      const size = resizeRequest({ width: rect.width, height: rect.height });
      if (size && (size.width !== display.width || size.height !== display.height)) {
        sendInput({ type: 'resize', ...size });
      }
    }, delay);
  };
  // A resizable (virtual) display follows the viewer's size: at hello, then on every change;
  // a desktop's display is never resized from here.
  let observed: string | undefined;
  const observer = new ResizeObserver(() => {
    const rect = stage.getBoundingClientRect();
    const size = `${Math.round(rect.width)}x${Math.round(rect.height)}`;
    if (observed !== undefined && observed !== size && resizable) scheduleResize();
    observed = size;
  });
  observer.observe(stage);

  fullscreen.addEventListener('click', () => {
    if (document.fullscreenElement) {
      void document.exitFullscreen();
    } else {
      void stage.requestFullscreen().then(() => stage.focus()).catch(() => undefined);
    }
  });
  pasteSend.addEventListener('click', () => {
    if (pasteText.value && sendClipboard(pasteText.value)) {
      pasteText.value = '';
    }
    stage.focus();
  });
  pasteText.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') pasteSend.click();
  });
  const finish = () => {
    leaving = true;
    generation += 1;
    stopRetry();
    if (resizeTimer) clearTimeout(resizeTimer);
    hideBanner();
    releaseAll();
    const closing = session?.close();
    session = undefined;
    return closing;
  };
  end.addEventListener('click', async () => {
    end.disabled = true;
    setState('ended', 'ending…');
    await finish()?.catch(() => undefined);
    go('/');
  });
  back.addEventListener('click', () => go('/'));

  updateClipboardControls();
  void connect();

  return () => {
    void finish();
    observer.disconnect();
    window.removeEventListener('blur', onWindowBlur);
    document.removeEventListener('visibilitychange', onVisibility);
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    video.srcObject = null;
  };
}
