import { AirlockClient, AirlockProblemError, type AirlockSession } from '@airlock/sdk';

/**
 * The portal's one API client, for the platform that served the page. The login session is
 * kept in this tab's sessionStorage (gone when the tab closes), so a reload stays logged in.
 */
const STORAGE_KEY = 'airlock.session';

function stored(): AirlockSession | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) {
      return undefined;
    }
    const session = JSON.parse(raw) as AirlockSession;
    return session.refreshTokenExpiresAt > Date.now() ? session : undefined;
  } catch {
    return undefined;
  }
}

function persist(session: AirlockSession | undefined): void {
  if (session) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  } else {
    sessionStorage.removeItem(STORAGE_KEY);
  }
}

export const airlock = new AirlockClient({
  baseUrl: location.origin,
  session: stored(),
  onSessionChange: persist,
});

/** The username the login was made with (for the header and re-login after a password change). */
export const identity = {
  get username(): string {
    return sessionStorage.getItem('airlock.username') ?? '';
  },
  set username(value: string) {
    sessionStorage.setItem('airlock.username', value);
  },
};

/** What to show for a failed call: the problem's `detail` (what was wrong), else its title, else the message. */
export function describeError(error: unknown): string {
  if (error instanceof AirlockProblemError) {
    return error.detail || error.title || error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** Whether the error means the login is gone (go back to the login screen). */
export function isLoggedOut(error: unknown): boolean {
  return error instanceof AirlockProblemError && error.status === 401;
}
