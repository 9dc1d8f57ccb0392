package dev.airlock.sdk;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.airlock.sdk.api.AgentsApi;
import dev.airlock.sdk.api.ApiKeysApi;
import dev.airlock.sdk.api.AuditApi;
import dev.airlock.sdk.api.AuthApi;
import dev.airlock.sdk.api.ContainersApi;
import dev.airlock.sdk.api.DirectoryApi;
import dev.airlock.sdk.api.HealthApi;
import dev.airlock.sdk.api.ImagesApi;
import dev.airlock.sdk.api.JobsApi;
import dev.airlock.sdk.api.ProvisionersApi;
import dev.airlock.sdk.api.RolesApi;
import dev.airlock.sdk.api.SessionsApi;
import dev.airlock.sdk.api.SignalNodesApi;
import dev.airlock.sdk.api.UsersApi;
import dev.airlock.sdk.connect.ConnectOptions;
import dev.airlock.sdk.connect.RemoteSession;
import dev.airlock.sdk.connect.SessionConnector;
import dev.airlock.sdk.invoker.ApiClient;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentPage;
import dev.airlock.sdk.model.TokenPair;
import dev.airlock.sdk.tunnel.TunnelConnector;
import dev.airlock.sdk.tunnel.TunnelStream;
import io.netty.channel.ChannelOption;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.http.codec.json.JacksonJsonDecoder;
import org.springframework.http.codec.json.JacksonJsonEncoder;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * The entry point of the Airlock Java SDK: one platform, one identity.
 *
 * <p>A client from {@link #builder()} starts without credentials. {@link #login(String, String)}
 * stores the returned token pair; from then on every call through the API accessors ({@link
 * #users()}, {@link #roles()}, …) carries the access token, which is refreshed with the single-use
 * refresh token shortly (at most 30 seconds) before it expires. Concurrent calls never refresh
 * twice. If the platform refuses the refresh (the session was revoked or expired), the call fails
 * with a 401 {@link AirlockProblemException} and the client forgets its tokens until the next
 * login.
 *
 * <p>{@link #withApiKey(String)} (automation) and {@link #withAccessToken(String)} derive clients
 * that send one fixed credential and never refresh; they share this client's connection pool.
 *
 * <p>Every call is non-blocking and lazy (nothing is sent until the returned {@code Mono} is
 * subscribed), and every non-2xx response fails it with an {@link AirlockProblemException} carrying
 * the RFC 7807 problem. Instances are immutable apart from the login state and are safe to share
 * between threads.
 *
 * <pre>{@code
 * AirlockClient airlock = AirlockClient.builder().baseUrl("https://airlock.example.com").build();
 * airlock.login("alice", password)
 *     .then(airlock.users().listUsers(50, null))
 *     .subscribe(page -> page.getItems().forEach(System.out::println));
 * }</pre>
 */
public final class AirlockClient {

  /** The response timeout of the default transport. */
  public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);

  /** The connect timeout of the default transport. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final String baseUrl;
  private final WebClient transport;
  private final JsonMapper mapper;
  private final Clock clock;
  private final TokenSession session;
  private final Credentials fixedCredentials;

  private final HealthApi health;
  private final AuthApi auth;
  private final UsersApi users;
  private final RolesApi roles;
  private final ApiKeysApi apiKeys;
  private final AuditApi audit;
  private final AgentsApi agents;
  private final SessionsApi sessions;
  private final SignalNodesApi signalNodes;
  private final ImagesApi images;
  private final ContainersApi containers;
  private final ProvisionersApi provisioners;
  private final JobsApi jobs;
  private final DirectoryApi directory;
  private final SessionConnector connector;
  private final TunnelConnector tunnels;

  /**
   * @param transport JSON codecs and problem mapping, no credentials
   * @param fixedCredentials the credential to send, or {@code null} for a login session
   */
  private AirlockClient(
      String baseUrl,
      WebClient transport,
      JsonMapper mapper,
      Clock clock,
      Credentials fixedCredentials) {
    this.baseUrl = baseUrl;
    this.transport = transport;
    this.mapper = mapper;
    this.clock = clock;
    this.fixedCredentials = fixedCredentials;
    ApiClient anonymous = apiClient(transport);
    Credentials credentials;
    if (fixedCredentials == null) {
      this.session = new TokenSession(new AuthApi(anonymous), clock);
      credentials = session;
    } else {
      this.session = null;
      credentials = fixedCredentials;
    }
    ApiClient authenticated =
        apiClient(transport.mutate().filter(bearerAuthentication(credentials)).build());
    // Public, and must answer even when the session can no longer be refreshed.
    this.health = new HealthApi(anonymous);
    this.auth = new AuthApi(authenticated);
    this.users = new UsersApi(authenticated);
    this.roles = new RolesApi(authenticated);
    this.apiKeys = new ApiKeysApi(authenticated);
    this.audit = new AuditApi(authenticated);
    this.agents = new AgentsApi(authenticated);
    this.sessions = new SessionsApi(authenticated);
    this.signalNodes = new SignalNodesApi(authenticated);
    this.images = new ImagesApi(authenticated);
    this.containers = new ContainersApi(authenticated);
    this.provisioners = new ProvisionersApi(authenticated);
    this.jobs = new JobsApi(authenticated);
    this.directory = new DirectoryApi(authenticated);
    this.connector = new SessionConnector(sessions);
    this.tunnels = new TunnelConnector(sessions);
  }

  /** Starts configuring a client; {@link Builder#baseUrl(String)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Logs in with a username and password and keeps the tokens for the calls that follow, replacing
   * any held before (they are not revoked: call {@link #logout()} first for that).
   *
   * <p>When the returned pair says {@code passwordChangeRequired}, the access token allows only
   * {@code auth().changePassword(…)}, {@code auth().getMe()} and {@link #logout()}.
   *
   * @return the token pair; fails with an {@link AirlockProblemException} of type {@code
   *     urn:airlock:problem:invalid-credentials} (401), {@code …:account-locked} (429, see {@link
   *     AirlockProblemException#retryAfter()}) or {@code …:account-disabled} (403)
   * @throws IllegalStateException (in the {@code Mono}) on a client made by {@link
   *     #withApiKey(String)} or {@link #withAccessToken(String)}
   */
  public Mono<TokenPair> login(String username, String password) {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    if (session == null) {
      return Mono.error(
          new IllegalStateException(
              "login: this client sends a fixed credential (withApiKey/withAccessToken);"
                  + " log in with a client from AirlockClient.builder()"));
    }
    return session.login(username, password);
  }

  /**
   * Ends the login session on the platform (its refresh token and every access token issued in it
   * stop working) and forgets the tokens. On a fixed-credential client, ends the session of that
   * access token.
   */
  public Mono<Void> logout() {
    Mono<Void> call = auth.logout();
    return session == null ? call : call.doOnSuccess(done -> session.clear());
  }

  /** Whether this client holds a login's tokens (always {@code false} for fixed credentials). */
  public boolean isLoggedIn() {
    return session != null && session.isLoggedIn();
  }

  /**
   * Returns a client for the same platform that authenticates every call with the given API key
   * ({@code alk_…}). This client is unchanged.
   *
   * @throws IllegalArgumentException if the key is blank
   */
  public AirlockClient withApiKey(String apiKey) {
    return withFixedCredential("apiKey", apiKey);
  }

  /**
   * Returns a client for the same platform that sends the given access token (a JWT obtained
   * elsewhere, e.g. by the CLI) on every call and never refreshes it. This client is unchanged.
   *
   * @throws IllegalArgumentException if the token is blank
   */
  public AirlockClient withAccessToken(String accessToken) {
    return withFixedCredential("accessToken", accessToken);
  }

  private AirlockClient withFixedCredential(String what, String token) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException(what + ": blank (expected: the bearer credential)");
    }
    return new AirlockClient(baseUrl, transport, mapper, clock, Credentials.fixed(token));
  }

  /**
   * As a trusted leaf cluster's link: returns a client that makes every call of this one (an API
   * key of the leaf's {@code airlock.trust.link-user}) for a user of the root cluster, whose root
   * roles the leaf maps to its own ({@code Airlock-Cluster}, {@code Airlock-Cluster-User}, {@code
   * Airlock-Cluster-Roles}). The leaf refuses these headers from anybody else. This client is
   * unchanged.
   *
   * @throws IllegalStateException if this client has no fixed credential (an API key)
   */
  public AirlockClient forClusterUser(String cluster, String username, List<String> roles) {
    if (fixedCredentials == null) {
      throw new IllegalStateException(
          "forClusterUser: this client logs in with a password (expected: withApiKey first)");
    }
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(username, "username");
    WebClient forUser =
        transport
            .mutate()
            .defaultHeaders(
                headers -> {
                  headers.set("Airlock-Cluster", cluster);
                  headers.set("Airlock-Cluster-User", username);
                  headers.set("Airlock-Cluster-Roles", String.join(",", roles));
                })
            .build();
    return new AirlockClient(baseUrl, forUser, mapper, clock, fixedCredentials);
  }

  /** The platform's base URL, without a trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  /** Liveness and readiness; sent without credentials, as the operation is public. */
  public HealthApi health() {
    return health;
  }

  /**
   * Identity, password and signing keys, with this client's credentials. Use {@link #login(String,
   * String)} and {@link #logout()} rather than the raw login and logout calls, so that the client
   * keeps its tokens.
   */
  public AuthApi auth() {
    return auth;
  }

  /** Local user accounts, with this client's credentials. */
  public UsersApi users() {
    return users;
  }

  /** Roles and their rules, with this client's credentials. */
  public RolesApi roles() {
    return roles;
  }

  /** API keys, with this client's credentials. */
  public ApiKeysApi apiKeys() {
    return apiKeys;
  }

  /** The audit log and its verification, with this client's credentials. */
  public AuditApi audit() {
    return audit;
  }

  /** Agents, their join tokens and presence, with this client's credentials. */
  public AgentsApi agents() {
    return agents;
  }

  /**
   * Container images (the templates containers are launched from), with this client's credentials.
   */
  public ImagesApi images() {
    return images;
  }

  /**
   * Ephemeral containers (create, read or wait for, list, delete), with this client's credentials.
   * To launch one and wait until it is ready, {@link ContainerLauncher} does the polling.
   */
  public ContainersApi containers() {
    return containers;
  }

  /** The Docker hosts containers are placed on (admins), with this client's credentials. */
  public ProvisionersApi provisioners() {
    return provisioners;
  }

  /**
   * The platform's scheduled jobs (audit archive, directory sync, reaper…): their schedules and
   * runs, and running one now (admins), with this client's credentials.
   */
  public JobsApi jobs() {
    return jobs;
  }

  /** The LDAP directories users are synchronised from (admins), with this client's credentials. */
  public DirectoryApi directory() {
    return directory;
  }

  /**
   * Remote sessions (create, list, terminate), with this client's credentials. To open one and get
   * its data channels, use {@code connect} instead.
   */
  public SessionsApi sessions() {
    return sessions;
  }

  /**
   * Opens a remote session to {@code target} (an agent's id or name) with the {@link
   * ConnectOptions#defaults() defaults}: control mode, peer to peer with the relay as fallback,
   * channels {@code echo} and {@code info}.
   *
   * @see #connect(String, ConnectOptions)
   */
  public Mono<RemoteSession> connect(String target) {
    return connect(target, ConnectOptions.defaults());
  }

  /**
   * Opens a remote session to {@code target} (an agent's id or name): creates it on the platform
   * ({@code POST /api/v1/sessions}), connects to the signal node holding the agent with the
   * single-use connect token, and sets up the channels in {@code options}, peer to peer (WebRTC,
   * DTLS) unless the transport is {@code relay}, through the node's relay when peer to peer has not
   * connected within {@link ConnectOptions#p2pTimeout()}. The agent's SDP answer must carry the
   * DTLS fingerprint the platform registered for it.
   *
   * @return the session once its channels can be used; fails with an {@link
   *     AirlockProblemException} when the platform refuses the session (403, 404, 409), and with an
   *     {@link dev.airlock.sdk.connect.AirlockConnectException} when the signal node cannot be
   *     reached or refuses (its close code: 4401 token refused, 4404 agent not on that node, 4409
   *     token already used), a step times out, or the DTLS fingerprint does not match
   */
  public Mono<RemoteSession> connect(String target, ConnectOptions options) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(options, "options");
    return connector.connect(target, options);
  }

  /**
   * Opens a byte stream to {@code tunnelTarget} on the edge node {@code node}, waiting at most
   * {@link TunnelConnector#DEFAULT_OPEN_TIMEOUT} for the signal node and then for the stream.
   *
   * @see #tunnel(String, String, String, Duration)
   */
  public Mono<TunnelStream> tunnel(String node, String tunnelTarget, String login) {
    return tunnel(node, tunnelTarget, login, TunnelConnector.DEFAULT_OPEN_TIMEOUT);
  }

  /**
   * Opens a byte stream to a target the edge node {@code node} declares, through its reverse
   * tunnel: creates a {@code tunnel} session on the platform ({@code POST /api/v1/sessions}, which
   * checks the caller's rules on the node's labels and, for {@code ssh}, the login), connects to
   * the signal node holding the node with the single-use connect token, and waits for its {@code
   * welcome}, which comes once the node has connected to the target.
   *
   * @param node the node's name or id
   * @param tunnelTarget {@code ssh}, {@code app:NAME} or {@code tcp:PORT}, one of the node's {@code
   *     targets}
   * @param login for {@code ssh}, the account to log in as (the caller's rules must allow it; the
   *     node's {@code sshd} authenticates the user as usual); {@code null} for other targets
   * @param timeout the limit for reaching the signal node, and then again for the stream to open
   * @return the open stream; fails with an {@link AirlockProblemException} when the platform
   *     refuses (403 {@code forbidden}, 404 {@code not-found} or {@code tunnel-target-unknown}, 409
   *     {@code agent-offline}, 400 for a malformed target or login), and with a {@link
   *     dev.airlock.sdk.tunnel.TunnelException} when the signal node cannot be reached, does not
   *     answer in time, or closes the socket (its close code: 4502 the node cannot reach the
   *     target, with the node's reason; 4404 the node is not connected there; 4401 or 4409 the
   *     connect token was refused or already used; 4410 the session was terminated)
   */
  public Mono<TunnelStream> tunnel(
      String node, String tunnelTarget, String login, Duration timeout) {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(tunnelTarget, "tunnelTarget");
    return tunnels.open(node, tunnelTarget, login, timeout);
  }

  /**
   * Opens a byte stream to {@code tunnelTarget} on {@code node} of the trusted (leaf) cluster
   * {@code cluster}, routed through its link: this platform checks only that the caller may use the
   * cluster ({@code connect} on its labels) and records the routing; the leaf maps the caller's
   * roles to its own and decides, as {@link #tunnel(String, String, String, Duration)} describes,
   * and keeps the audit of what happens on its node. A refusal by the leaf ends the stream with
   * 4502 and the leaf's reason.
   */
  public Mono<TunnelStream> tunnelInCluster(
      String cluster, String node, String tunnelTarget, String login, Duration timeout) {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(tunnelTarget, "tunnelTarget");
    return tunnels.open(cluster, node, tunnelTarget, login, timeout);
  }

  /**
   * The nodes of the trusted (leaf) cluster {@code cluster} that the caller may see there, as the
   * leaf decides with its mapping of the caller's roles: the leaf's {@code GET /api/v1/agents?kind=
   * node}, read through the cluster's link.
   */
  public Mono<List<Agent>> clusterNodes(String cluster, Duration timeout) {
    Objects.requireNonNull(cluster, "cluster");
    return tunnels
        .open(cluster, null, "nodes", null, timeout)
        .flatMap(
            stream ->
                stream
                    .receive()
                    .reduce(
                        new java.io.ByteArrayOutputStream(),
                        (out, bytes) -> {
                          byte[] chunk = new byte[bytes.remaining()];
                          bytes.get(chunk);
                          out.writeBytes(chunk);
                          return out;
                        })
                    .timeout(timeout))
        .map(out -> mapper.readValue(out.toByteArray(), AgentPage.class).getItems());
  }

  /** The calls signal nodes make (role {@code signal-node}); not for users' programs. */
  public SignalNodesApi signalNodes() {
    return signalNodes;
  }

  private ApiClient apiClient(WebClient webClient) {
    ApiClient client = new ApiClient(webClient, mapper, ApiClient.createDefaultDateFormat());
    client.setBasePath(baseUrl);
    return client;
  }

  /** Sets {@code Authorization: Bearer} when the request is sent, so refreshed tokens apply. */
  private static ExchangeFilterFunction bearerAuthentication(Credentials credentials) {
    return (request, next) ->
        credentials
            .bearerToken()
            .map(token -> ClientRequest.from(request).headers(h -> h.setBearerAuth(token)).build())
            .defaultIfEmpty(request)
            .flatMap(next::exchange);
  }

  /**
   * The JSON mapping of the generated models, leaving unset properties out of request bodies: the
   * contract has no nullable property, and a {@code PATCH} must send only what changes.
   */
  static JsonMapper defaultMapper() {
    return ApiClient.createDefaultMapper(null)
        .rebuild()
        .changeDefaultPropertyInclusion(
            inclusion -> inclusion.withValueInclusion(JsonInclude.Include.NON_NULL))
        .build();
  }

  /** Configures an {@link AirlockClient}. Not thread-safe; {@link #build()} copies it. */
  public static final class Builder {

    private String baseUrl;
    private WebClient webClient;
    private Duration responseTimeout = DEFAULT_RESPONSE_TIMEOUT;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * The platform's base URL, e.g. {@code https://airlock.example.com} (required). The API's paths
     * ({@code /api/v1/…}) are appended to it.
     */
    public Builder baseUrl(String baseUrl) {
      this.baseUrl = baseUrl;
      return this;
    }

    /**
     * The WebClient to send requests with (optional): its connector, filters and default headers
     * are kept, and the SDK installs its own JSON codecs on a copy. Without it, the SDK uses
     * reactor-netty with a {@link #DEFAULT_CONNECT_TIMEOUT} connect timeout and the {@link
     * #responseTimeout(Duration)}.
     */
    public Builder webClient(WebClient webClient) {
      this.webClient = webClient;
      return this;
    }

    /**
     * The response timeout of the default transport (default {@link #DEFAULT_RESPONSE_TIMEOUT});
     * ignored when a {@link #webClient(WebClient)} is given, which brings its own.
     */
    public Builder responseTimeout(Duration responseTimeout) {
      if (responseTimeout == null || responseTimeout.isNegative() || responseTimeout.isZero()) {
        throw new IllegalArgumentException(
            "responseTimeout: " + responseTimeout + " (expected: a positive duration)");
      }
      this.responseTimeout = responseTimeout;
      return this;
    }

    /** The clock that decides when the access token is due for refresh (tests only). */
    Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalArgumentException if the base URL is missing or not an absolute http(s) URL
     */
    public AirlockClient build() {
      String base = normalise(baseUrl);
      JsonMapper mapper = defaultMapper();
      WebClient.Builder transport =
          webClient != null ? webClient.mutate() : WebClient.builder().clientConnector(connector());
      transport
          .codecs(
              codecs -> {
                codecs.defaultCodecs().jacksonJsonEncoder(new JacksonJsonEncoder(mapper));
                codecs.defaultCodecs().jacksonJsonDecoder(new JacksonJsonDecoder(mapper));
              })
          .filter(new ProblemResponseFilter(mapper));
      return new AirlockClient(base, transport.build(), mapper, clock, null);
    }

    private ReactorClientHttpConnector connector() {
      HttpClient http =
          HttpClient.create()
              .option(
                  ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) DEFAULT_CONNECT_TIMEOUT.toMillis())
              .responseTimeout(responseTimeout);
      return new ReactorClientHttpConnector(http);
    }

    private static String normalise(String baseUrl) {
      String expected =
          " (expected: an absolute http or https URL such as https://airlock.example.com)";
      if (baseUrl == null || baseUrl.isBlank()) {
        throw new IllegalArgumentException("baseUrl: missing" + expected);
      }
      URI uri;
      try {
        uri = new URI(baseUrl.strip());
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("baseUrl: " + baseUrl + expected, e);
      }
      if (!uri.isAbsolute()
          || uri.getHost() == null
          || !("http".equalsIgnoreCase(uri.getScheme())
              || "https".equalsIgnoreCase(uri.getScheme()))
          || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw new IllegalArgumentException("baseUrl: " + baseUrl + expected);
      }
      String text = uri.toString();
      while (text.endsWith("/")) {
        text = text.substring(0, text.length() - 1);
      }
      return text;
    }
  }
}
