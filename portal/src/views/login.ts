import { airlock, describeError, identity } from '../api.js';
import { h, replace } from '../dom.js';
import { go, type Cleanup } from '../router.js';

/** The login screen: username and password; the problem's detail on failure. */
export function loginView(root: HTMLElement): Cleanup {
  const username = h('input', { testid: 'login-username', name: 'username', autocomplete: 'username', required: true, value: identity.username });
  const password = h('input', { testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { testid: 'login-error', class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { testid: 'login-submit', type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card narrow', testid: 'login-form' },
    h('h1', {}, 'Sign in to Airlock'),
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const pair = await airlock.login(username.value.trim(), password.value);
      identity.username = username.value.trim();
      go(pair.passwordChangeRequired ? '/password' : '/');
    } catch (e) {
      error.textContent = describeError(e);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, h('main', { class: 'centered', testid: 'login' }, h('div', { class: 'brand big' }, 'Airlock'), form));
  (username.value ? password : username).focus();
  return () => undefined;
}

/** The one-time password must be replaced before anything else works. */
export function passwordView(root: HTMLElement): Cleanup {
  const current = h('input', { testid: 'password-current', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { testid: 'password-new', type: 'password', autocomplete: 'new-password', required: true, minLength: 12 });
  const again = h('input', { testid: 'password-again', type: 'password', autocomplete: 'new-password', required: true });
  const error = h('p', { testid: 'password-error', class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { testid: 'password-submit', type: 'submit', class: 'primary' }, 'Change password');
  const form = h(
    'form',
    { class: 'card narrow' },
    h('h1', {}, 'Choose your password'),
    h('p', { class: 'muted' }, 'Your password was set by an administrator or is a one-time password. Choose your own to continue.'),
    h('label', {}, 'Current password', current),
    h('label', {}, 'New password', next),
    h('label', {}, 'New password again', again),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (next.value !== again.value) {
      error.textContent = 'The two new passwords differ.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      await airlock.auth.changePassword({ passwordChange: { currentPassword: current.value, newPassword: next.value } });
      // The tokens in hand still say "change required": sign in again with the new password.
      await airlock.login(identity.username, next.value);
      go('/');
    } catch (e) {
      error.textContent = describeError(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, h('main', { class: 'centered', testid: 'password' }, h('div', { class: 'brand big' }, 'Airlock'), form));
  current.focus();
  return () => undefined;
}
