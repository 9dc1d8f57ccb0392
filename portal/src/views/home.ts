import type { Agent, Container, Image } from '@airlock/sdk';
import { AirlockProblemError } from '@airlock/sdk';
import { airlock, describeError, identity, isLoggedOut } from '../api.js';
import { duration, h, replace } from '../dom.js';
import { go, type Cleanup } from '../router.js';

const REFRESH_MS = 5000;

/** Home: my desktops, my containers, and launching a container from an image. */
export function homeView(root: HTMLElement): Cleanup {
  let stopped = false;
  const timers: ReturnType<typeof setInterval>[] = [];
  const desktops = h('div', { testid: 'desktops', class: 'list' }, h('p', { class: 'muted' }, 'Loading…'));
  const containers = h('div', { testid: 'containers', class: 'list' }, h('p', { class: 'muted' }, 'Loading…'));
  const launch = h('div', { testid: 'launch' }, h('p', { class: 'muted' }, 'Loading…'));
  const who = h('span', { testid: 'whoami', class: 'muted' }, identity.username);

  const signOut = async () => {
    try {
      await airlock.logout();
    } catch {
      // Gone already: the login screen either way.
    }
    go('/login');
  };

  const failed = (error: unknown, into: HTMLElement, what: string) => {
    if (isLoggedOut(error)) {
      go('/login');
      return;
    }
    if (error instanceof AirlockProblemError && error.status === 403) {
      // Not an error for this user: their roles just do not cover it.
      replace(into, h('p', { class: 'muted', title: describeError(error) }, `${what.replace(/^Cannot list /, 'Your roles do not include ')}.`));
      return;
    }
    replace(into, h('p', { class: 'error' }, `${what}: ${describeError(error)}`));
  };

  const loadDesktops = async () => {
    try {
      const page = await airlock.agents.listAgents({ kind: 'desktop', limit: 100 });
      if (!stopped) renderDesktops(desktops, page.items);
    } catch (error) {
      if (!stopped) failed(error, desktops, 'Cannot list desktops');
    }
  };
  const loadContainers = async () => {
    try {
      const page = await airlock.containers.listContainers({ active: true, limit: 50 });
      if (!stopped) renderContainers(containers, page.items, loadContainers);
    } catch (error) {
      if (!stopped) failed(error, containers, 'Cannot list containers');
    }
  };
  const loadImages = async () => {
    try {
      const page = await airlock.images.listImages({ limit: 100 });
      if (!stopped) renderLaunch(launch, page.items, loadContainers, () => stopped);
    } catch (error) {
      if (!stopped) failed(error, launch, 'Cannot list images');
    }
  };

  replace(
    root,
    h(
      'div',
      { class: 'page', testid: 'home' },
      h('header', { class: 'topbar' }, h('div', { class: 'brand' }, 'Airlock'), h('div', { class: 'spacer' }), who, h('button', { testid: 'logout', onclick: signOut }, 'Sign out')),
      h(
        'main',
        { class: 'content' },
        h('section', { class: 'card' }, h('h2', {}, 'My desktops'), desktops),
        h('section', { class: 'card' }, h('h2', {}, 'My containers'), containers),
        h('section', { class: 'card' }, h('h2', {}, 'Launch a container'), launch),
      ),
    ),
  );
  void loadDesktops();
  void loadContainers();
  void loadImages();
  timers.push(setInterval(() => void loadContainers(), REFRESH_MS));
  timers.push(setInterval(() => void loadDesktops(), 3 * REFRESH_MS));
  return () => {
    stopped = true;
    timers.forEach(clearInterval);
  };
}

function renderDesktops(into: HTMLElement, agents: Agent[]): void {
  if (agents.length === 0) {
    replace(into, h('p', { class: 'muted' }, 'No desktop you may connect to.'));
    return;
  }
  replace(
    into,
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Status'), h('th', {}, 'Labels'), h('th', {}))),
      h(
        'tbody',
        {},
        ...agents.map((agent) =>
          h(
            'tr',
            { testid: 'desktop-row', 'data-agent-id': agent.id, 'data-name': agent.name },
            h('td', {}, agent.name),
            h('td', {}, h('span', { class: `pill ${agent.online ? 'ok' : 'off'}` }, agent.online ? 'online' : 'offline')),
            h('td', { class: 'muted' }, Object.entries(agent.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')),
            h(
              'td',
              { class: 'actions' },
              h('button', { testid: 'desktop-connect', disabled: !agent.online, onclick: () => chooseMode(agent.id, agent.name) }, 'Connect'),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderContainers(into: HTMLElement, items: Container[], reload: () => Promise<void>): void {
  if (items.length === 0) {
    replace(into, h('p', { class: 'muted' }, 'No running container.'));
    return;
  }
  const now = Date.now();
  replace(
    into,
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Image'), h('th', {}, 'State'), h('th', {}, 'Expires in'), h('th', {}))),
      h(
        'tbody',
        {},
        ...items.map((container) => {
          const remove = h(
            'button',
            {
              testid: 'container-delete',
              class: 'danger',
              disabled: container.state === 'stopping',
              onclick: async () => {
                remove.disabled = true;
                try {
                  await airlock.containers.deleteContainer({ containerId: container.id });
                } catch (error) {
                  alert(`Cannot delete the container: ${describeError(error)}`);
                }
                await reload();
              },
            },
            'End & delete',
          );
          return h(
            'tr',
            { testid: 'container-row', 'data-container-id': container.id, 'data-state': container.state },
            h('td', {}, container.image),
            h('td', {}, h('span', { testid: 'container-state', class: `pill ${stateClass(container.state)}`, title: container.reason ?? '' }, container.state)),
            h('td', {}, duration((container.expiresAt.getTime() - now) / 1000)),
            h(
              'td',
              { class: 'actions' },
              h(
                'button',
                {
                  testid: 'container-open',
                  class: 'primary',
                  disabled: container.state !== 'ready' || !container.agentId,
                  onclick: () => chooseMode(container.agentId!, container.image, container.id),
                },
                'Open',
              ),
              remove,
            ),
          );
        }),
      ),
    ),
  );
}

function stateClass(state: string): string {
  return state === 'ready' ? 'ok' : state === 'failed' ? 'bad' : state === 'stopping' || state === 'deleted' ? 'off' : 'busy';
}

function renderLaunch(into: HTMLElement, images: Image[], reload: () => Promise<void>, stopped: () => boolean): void {
  if (images.length === 0) {
    replace(into, h('p', { class: 'muted' }, 'No image you may launch.'));
    return;
  }
  const select = h('select', { testid: 'launch-image', name: 'image' }, ...images.map((image) => h('option', { value: image.name }, image.name)));
  const details = h('div', { class: 'fields' });
  const progress = h('div', { testid: 'launch-progress', class: 'progress', hidden: true });
  const error = h('p', { testid: 'launch-error', class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { testid: 'launch-submit', type: 'submit', class: 'primary' }, 'Launch');
  let ttl: HTMLInputElement;
  let variables: Map<string, HTMLInputElement>;

  const showImage = () => {
    const image = images.find((i) => i.name === select.value)!;
    ttl = h('input', {
      testid: 'launch-ttl',
      type: 'number',
      min: 1,
      max: Math.floor(image.maxTtlSeconds / 60),
      value: Math.round(image.defaultTtlSeconds / 60),
      required: true,
    });
    variables = new Map();
    const editable = (image.environment ?? []).filter((variable) => variable.editable);
    for (const variable of editable) {
      variables.set(variable.name, h('input', { testid: `launch-var-${variable.name}`, name: variable.name, value: variable.value, maxLength: 4096 }));
    }
    replace(
      details,
      image.description ? h('p', { class: 'muted' }, image.description) : null,
      h('p', { class: 'muted small' }, `Clipboard: ${image.clipboard} · idle timeout ${image.idleTimeoutSeconds ? duration(image.idleTimeoutSeconds) : 'none'} · ${image.warmReady} warm`),
      ...[...variables].map(([name, input]) => h('label', {}, name, input)),
      h('label', {}, `Time to live (minutes, at most ${Math.floor(image.maxTtlSeconds / 60)})`, ttl),
    );
  };
  select.addEventListener('change', showImage);
  showImage();

  const form = h('form', { class: 'launch-form' }, h('label', {}, 'Image', select), details, error, submit, progress);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    const environment = Object.fromEntries([...variables].map(([name, input]) => [name, input.value]));
    const setProgress = (state: string, text: string, containerId?: string) => {
      progress.hidden = false;
      progress.dataset.state = state;
      if (containerId) progress.dataset.containerId = containerId;
      replace(progress, h('span', { class: `pill ${stateClass(state)}` }, state), ' ', text);
    };
    try {
      setProgress('requested', 'Asking for a container…');
      let container = await airlock.containers.createContainer({
        containerCreate: { image: select.value, ttlSeconds: Math.round(Number(ttl.value) * 60), environment },
        idempotencyKey: `portal-${randomKey()}`,
      });
      void reload();
      const started = Date.now();
      while (!stopped() && !['ready', 'failed', 'deleted', 'stopping'].includes(container.state)) {
        setProgress(container.state, `Starting (${container.state}), ${Math.round((Date.now() - started) / 1000)} s…`, container.id);
        container = await airlock.containers.getContainer({ containerId: container.id, wait: 'ready', timeoutSeconds: 10 });
      }
      if (container.state === 'ready' && container.agentId) {
        setProgress('ready', `Ready in ${Math.round((Date.now() - started) / 1000)} s. `, container.id);
        const agentId = container.agentId;
        const id = container.id;
        progress.append(h('button', { testid: 'launch-open', type: 'button', class: 'primary', onclick: () => chooseMode(agentId, select.value, id) }, 'Open'));
      } else {
        setProgress(container.state, container.reason ? `Did not start: ${container.reason}` : 'Did not start.', container.id);
      }
      void reload();
    } catch (e) {
      if (isLoggedOut(e)) {
        go('/login');
        return;
      }
      progress.hidden = true;
      error.textContent = describeError(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  replace(into, form);
}

/** Asks how to open the session (control or view only), then goes to the remote view. */
export function chooseMode(agentId: string, name: string, containerId?: string): void {
  const dialog = h('dialog', { testid: 'mode-dialog', class: 'dialog' });
  const open = (mode: 'control' | 'view') => {
    dialog.close();
    dialog.remove();
    const query = new URLSearchParams({ mode, name, ...(containerId ? { container: containerId } : {}) });
    go(`/view/${encodeURIComponent(agentId)}?${query}`);
  };
  replace(
    dialog,
    h('h2', {}, `Open ${name}`),
    h('p', { class: 'muted' }, 'Control sends your mouse and keyboard; view only watches. Every session is recorded in the audit log.'),
    h(
      'div',
      { class: 'buttons' },
      h('button', { testid: 'mode-control', class: 'primary', onclick: () => open('control') }, 'Control'),
      h('button', { testid: 'mode-view', onclick: () => open('view') }, 'View only'),
      h('button', { testid: 'mode-cancel', class: 'link', onclick: () => (dialog.close(), dialog.remove()) }, 'Cancel'),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

/**
 * A random idempotency key. Not crypto.randomUUID(): browsers offer it only in secure contexts,
 * and the portal is often opened over plain http on a LAN; getRandomValues works everywhere.
 */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
