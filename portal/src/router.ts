/** What a screen returns: a function that stops its timers and sessions when it is left. */
export type Cleanup = () => void;

/** Navigates to a hash route, re-rendering even when it is the current one. */
export function go(path: string): void {
  const target = `#${path}`;
  if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}
