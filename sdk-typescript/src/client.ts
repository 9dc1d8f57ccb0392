import {
  AgentsApi,
  ApiKeysApi,
  AuditApi,
  AuthApi,
  Configuration,
  ContainersApi,
  DirectoryApi,
  HealthApi,
  ImagesApi,
  JobsApi,
  RolesApi,
  SessionsApi,
  UsersApi,
  type FetchAPI,
  type Middleware,
  type ResponseContext,
  type TokenPair,
} from './generated/index.js';
import { connectSession, type ConnectOptions, type RemoteSession } from './connect/session.js';
import { AirlockProblemError } from './problem.js';

/** A password login session: the token pair and when each token expires (epoch milliseconds). */
export interface AirlockSession {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly accessTokenExpiresAt: number;
  readonly refreshTokenExpiresAt: number;
  /** When true, the platform allows only `changePassword`, `getMe` and `logout`. */
  readonly passwordChangeRequired: boolean;
}

export interface AirlockClientOptions {
  /** The platform's address, e.g. `https://airlock.example.com` (no `/api/v1`). */
  baseUrl: string;
  /** The fetch to use; default the global one (node 18+, browsers). */
  fetch?: FetchAPI;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * Refresh the access token this many seconds before it expires; default 30, and at most
   * half its lifetime.
   */
  refreshBeforeExpirySeconds?: number;
  /** Authenticate with this API key (`alk_…`) instead of a login. */
  apiKey?: string;
  /** Authenticate with this access token as is (never refreshed) instead of a login. */
  accessToken?: string;
  /** Resume a login session, e.g. one a browser kept in storage. */
  session?: AirlockSession;
  /** Called whenever login, refresh or logout changes the session (to persist it, say). */
  onSessionChange?: (session: AirlockSession | undefined) => void;
  /** Extra middleware, run before the client's own (which turns errors into problems). */
  middleware?: Middleware[];
}

/**
 * The Airlock API, configured for one platform and one set of credentials.
 *
 * Every API call either resolves with the response body or rejects with an
 * {@link AirlockProblemError}. After {@link login} the client sends the access token, refreshes
 * it shortly before it expires, and on a `401` refreshes once and retries the request; refresh
 * tokens are single use, so concurrent calls share one refresh.
 *
 * ```ts
 * const airlock = new AirlockClient('https://airlock.example.com');
 * await airlock.login('alice', 'correct horse battery staple');
 * const { items } = await airlock.users.listUsers({ limit: 10 });
 * const ci = new AirlockClient({ baseUrl: 'https://airlock.example.com', apiKey: 'alk_…' });
 * ```
 */
export class AirlockClient {
  readonly health: HealthApi;
  readonly auth: AuthApi;
  readonly users: UsersApi;
  readonly roles: RolesApi;
  readonly apiKeys: ApiKeysApi;
  readonly audit: AuditApi;
  /** Agents, their join tokens and presence. */
  readonly agents: AgentsApi;
  /** Remote sessions (create, list, terminate); to open one with its channels, use {@link connect}. */
  readonly sessions: SessionsApi;
  /** Container images (templates) with their editable variables. */
  readonly images: ImagesApi;
  /** Ephemeral containers: launch, wait for `ready` (`getContainer({ wait: 'ready' })`), delete. */
  readonly containers: ContainersApi;
  /** The platform's scheduled jobs: schedules, runs, and running one now (administrators). */
  readonly jobs: JobsApi;
  /** The LDAP directories users are synchronised from (administrators). */
  readonly directory: DirectoryApi;

  private readonly options: Readonly<AirlockClientOptions>;
  /** An API key or a fixed access token; undefined for a client that logs in. */
  private readonly bearer: string | undefined;
  private currentSession: AirlockSession | undefined;
  /** When to refresh the current session's access token (epoch milliseconds). */
  private refreshAt = 0;
  private refreshing: Promise<AirlockSession> | undefined;

  /** A client for the platform at `options` (or at this address), not logged in yet. */
  constructor(options: AirlockClientOptions | string) {
    const resolved = typeof options === 'string' ? { baseUrl: options } : options;
    if (!resolved.baseUrl) {
      throw new TypeError('baseUrl: (empty) (expected: the platform address, e.g. http://localhost:8080)');
    }
    const given = [resolved.apiKey, resolved.accessToken, resolved.session].filter((value) => value !== undefined);
    if (given.length > 1) {
      throw new TypeError('credentials: more than one of apiKey, accessToken and session (expected: at most one)');
    }
    if (resolved.apiKey === '' || resolved.accessToken === '') {
      throw new TypeError(`${resolved.apiKey === '' ? 'apiKey' : 'accessToken'}: (empty) (expected: a non-empty token)`);
    }
    this.options = { ...resolved, baseUrl: resolved.baseUrl.replace(/\/+$/, '') };
    this.bearer = resolved.apiKey ?? resolved.accessToken;
    this.adopt(resolved.session);

    const configuration = new Configuration({
      basePath: this.options.baseUrl,
      fetchApi: this.options.fetch,
      headers: this.options.headers,
      accessToken: () => this.bearerToken(),
      middleware: [...(this.options.middleware ?? []), this.errorMiddleware()],
    });
    this.health = new HealthApi(configuration);
    this.auth = new AuthApi(configuration);
    this.users = new UsersApi(configuration);
    this.roles = new RolesApi(configuration);
    this.apiKeys = new ApiKeysApi(configuration);
    this.audit = new AuditApi(configuration);
    this.agents = new AgentsApi(configuration);
    this.sessions = new SessionsApi(configuration);
    this.images = new ImagesApi(configuration);
    this.containers = new ContainersApi(configuration);
    this.jobs = new JobsApi(configuration);
    this.directory = new DirectoryApi(configuration);
  }

  /** The platform's address this client talks to. */
  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** The current login session, if {@link login} succeeded and it has not ended. */
  get session(): AirlockSession | undefined {
    return this.currentSession;
  }

  /**
   * Logs in with a password; later calls carry the access token and refresh it as needed.
   * Rejects with `urn:airlock:problem:invalid-credentials`, `account-locked` (see
   * {@link AirlockProblemError.retryAfterSeconds}) or `account-disabled`.
   */
  async login(username: string, password: string): Promise<TokenPair> {
    this.requireSessionCredentials('login');
    const pair = await this.auth.login({ loginRequest: { username, password } });
    this.setSession(toSession(pair));
    return pair;
  }

  /** Rotates the refresh token now (normally automatic); the old refresh token stops working. */
  async refresh(): Promise<AirlockSession> {
    this.requireSessionCredentials('refresh');
    if (!this.refreshing) {
      this.refreshing = this.rotate().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  /** Ends the login session on the platform (its tokens stop working) and forgets it. */
  async logout(): Promise<void> {
    this.requireSessionCredentials('logout');
    if (!this.currentSession) {
      return;
    }
    try {
      await this.auth.logout();
    } finally {
      this.setSession(undefined);
    }
  }

  /**
   * Opens a remote session to `target` (an agent's id or name): creates it on the platform
   * (`POST /api/v1/sessions`), connects to the signal node holding the agent with the single-use
   * connect token, and sets up the channels in `options` (default `echo` and `info`), peer to
   * peer (WebRTC, DTLS) unless the transport is `relay`, through the node's relay when peer to
   * peer has not connected within `options.p2pTimeoutMs` (default 5 s) or fails. The agent's
   * SDP answer must carry the DTLS fingerprint the platform registered for it. Browsers only
   * (the global `WebSocket` and `RTCPeerConnection`), unless `options` passes both.
   *
   * Resolves with the session once its channels can be used. Rejects with an
   * {@link AirlockProblemError} when the platform refuses the session (403, 404, 409), and with
   * an {@link AirlockConnectError} when the signal node cannot be reached or refuses (its
   * `closeCode`: 4401 token refused, 4404 agent not on that node, 4409 token already used, 4410
   * session terminated, 4029 too many sessions), a step times out, or the DTLS fingerprint does
   * not match.
   */
  connect(target: string, options?: ConnectOptions): Promise<RemoteSession> {
    return connectSession(this.sessions, target, options);
  }

  /** A client for the same platform (same fetch and headers) that authenticates with an API key. */
  withApiKey(apiKey: string): AirlockClient {
    return new AirlockClient({ ...this.transport(), apiKey });
  }

  /** A client for the same platform that sends this access token as is (never refreshed). */
  withAccessToken(accessToken: string): AirlockClient {
    return new AirlockClient({ ...this.transport(), accessToken });
  }

  /** A client for the same platform with no credentials, for public operations or a new login. */
  anonymous(): AirlockClient {
    return new AirlockClient(this.transport());
  }

  /** This client's options without its credentials or session callbacks. */
  private transport(): AirlockClientOptions {
    const { baseUrl, fetch, headers, refreshBeforeExpirySeconds, middleware } = this.options;
    return { baseUrl, fetch, headers, refreshBeforeExpirySeconds, middleware };
  }

  private requireSessionCredentials(operation: string): void {
    if (this.bearer !== undefined) {
      throw new Error(`${operation}: not available on a client with an apiKey or accessToken (use anonymous() to log in)`);
    }
  }

  /** The bearer for the next request ('' sends none); refreshes a session about to expire. */
  private async bearerToken(): Promise<string> {
    if (this.bearer !== undefined) {
      return this.bearer;
    }
    let session = this.currentSession;
    const now = Date.now();
    // With an expired refresh token, try the access token anyway: the 401 says it all.
    if (session && now >= this.refreshAt && now < session.refreshTokenExpiresAt) {
      session = await this.refresh();
    }
    return session?.accessToken ?? '';
  }

  private async rotate(): Promise<AirlockSession> {
    const session = this.currentSession;
    if (!session) {
      throw new Error('refresh: not logged in (call login first)');
    }
    try {
      const pair = await this.auth.refresh({ refreshRequest: { refreshToken: session.refreshToken } });
      const next = toSession(pair);
      this.setSession(next);
      return next;
    } catch (error) {
      // A refused refresh token means the session is over; a network error leaves it be.
      if (error instanceof AirlockProblemError && error.status === 401 && this.currentSession === session) {
        this.setSession(undefined);
      }
      throw error;
    }
  }

  private setSession(session: AirlockSession | undefined): void {
    this.adopt(session);
    this.options.onSessionChange?.(session);
  }

  private adopt(session: AirlockSession | undefined): void {
    this.currentSession = session;
    if (session) {
      const remaining = session.accessTokenExpiresAt - Date.now();
      const margin = Math.min((this.options.refreshBeforeExpirySeconds ?? 30) * 1000, remaining / 2);
      this.refreshAt = session.accessTokenExpiresAt - margin;
    }
  }

  /**
   * Turns every non-2xx response into an AirlockProblemError; before that, a 401 on a
   * session's access token gets one refresh and one retry.
   */
  private errorMiddleware(): Middleware {
    return {
      post: async (context: ResponseContext): Promise<Response | void> => {
        const { response } = context;
        if (response.ok) {
          return response;
        }
        const retried = response.status === 401 ? await this.retryAfterRefresh(context) : undefined;
        if (retried?.ok) {
          return retried;
        }
        throw await AirlockProblemError.fromResponse(retried ?? response);
      },
    };
  }

  /** Sends the request again, once, with a refreshed access token; undefined if it cannot. */
  private async retryAfterRefresh({ url, init }: ResponseContext): Promise<Response | undefined> {
    const sent = bearerOf(init);
    const session = this.currentSession;
    if (this.bearer !== undefined || !session || !sent) {
      return undefined;
    }
    let fresh: AirlockSession;
    try {
      // When a concurrent call already rotated the pair, the new access token is enough.
      fresh = sent === session.accessToken ? await this.refresh() : session;
    } catch {
      return undefined;
    }
    const headers = Object.fromEntries(
      Object.entries(toHeaderRecord(init.headers)).filter(([name]) => name.toLowerCase() !== 'authorization'),
    );
    const retryInit: RequestInit = { ...init, headers: { ...headers, Authorization: `Bearer ${fresh.accessToken}` } };
    // Straight to fetch: the retry must not come back through this middleware.
    return (this.options.fetch ?? fetch)(url, retryInit);
  }
}

function toSession(pair: TokenPair): AirlockSession {
  const now = Date.now();
  return {
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    accessTokenExpiresAt: now + pair.expiresIn * 1000,
    refreshTokenExpiresAt: now + pair.refreshExpiresIn * 1000,
    passwordChangeRequired: pair.passwordChangeRequired,
  };
}

function toHeaderRecord(headers: HeadersInit | undefined): Record<string, string> {
  if (!headers) {
    return {};
  }
  if (headers instanceof Headers) {
    return Object.fromEntries(headers.entries());
  }
  if (Array.isArray(headers)) {
    return Object.fromEntries(headers);
  }
  return { ...headers };
}

function bearerOf(init: RequestInit): string | undefined {
  const headers = toHeaderRecord(init.headers);
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'authorization');
  const value = name ? headers[name] : undefined;
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}
