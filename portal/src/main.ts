import './style.css';
import { airlock } from './api.js';
import { replace } from './dom.js';
import { homeView } from './views/home.js';
import { loginView, passwordView } from './views/login.js';
import { remoteView } from './views/remote.js';
import { go, type Cleanup } from './router.js';

const root = document.getElementById('app')!;
let leave: Cleanup | undefined;

/**
 * Hash routes (the platform needs no fallback for them): `#/login`, `#/password`, `#/` (home) and
 * `#/view/{agentId}?mode=control|view&name=…&container=…` (the remote view).
 */
function route(): void {
  leave?.();
  leave = undefined;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const session = airlock.session;
  if (path !== '/login' && !session) {
    go('/login');
    return;
  }
  if (session?.passwordChangeRequired && path !== '/password' && path !== '/login') {
    go('/password');
    return;
  }
  const view = path.match(/^\/view\/([^/]+)$/);
  if (path === '/login') {
    leave = loginView(root);
  } else if (path === '/password') {
    leave = passwordView(root);
  } else if (view) {
    leave = remoteView(root, {
      agentId: decodeURIComponent(view[1]),
      mode: params.get('mode') === 'view' ? 'view' : 'control',
      name: params.get('name') ?? undefined,
      containerId: params.get('container') ?? undefined,
    });
  } else {
    leave = homeView(root);
  }
}

window.addEventListener('hashchange', route);
replace(root);
route();
