package dev.airlock.sdk.connect;

import dev.airlock.peer.Channel;
import dev.airlock.peer.PeerLink;
import dev.airlock.peer.RelayChannels;
import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.IceServerConfig;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SdpType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.api.SessionsApi;
import dev.airlock.sdk.model.IceServer;
import dev.airlock.sdk.model.SessionCreate;
import dev.airlock.sdk.model.SessionCreated;
import dev.airlock.sdk.model.SessionPath;
import dev.airlock.sdk.model.SessionTransport;
import io.netty.channel.ChannelOption;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;

/**
 * Opens remote sessions; {@code AirlockClient.connect} is the way to use it. Each call: {@code POST
 * /api/v1/sessions}, the signal node's client socket with the connect token, then a WebRTC offer
 * whose answer must carry the agent's registered DTLS fingerprint, and the relay when the transport
 * is {@code relay} or peer to peer does not connect in time.
 */
public final class SessionConnector {

  private static final Logger log = LoggerFactory.getLogger(SessionConnector.class);

  private final SessionsApi sessions;
  private final HttpClient signalClient;

  public SessionConnector(SessionsApi sessions) {
    this.sessions = sessions;
    // A WebSocket is never handed back to a pool: unpooled, so that the pool's limit of 500
    // connections per address does not cap how many sessions one client holds.
    this.signalClient =
        HttpClient.newConnection()
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) ConnectOptions.DEFAULT_SIGNAL_TIMEOUT.toMillis());
  }

  /** See {@code AirlockClient.connect(String, ConnectOptions)}. */
  public Mono<RemoteSession> connect(String target, ConnectOptions options) {
    return Mono.defer(
        () ->
            sessions
                .createSession(
                    new SessionCreate()
                        .target(target)
                        .mode(options.mode())
                        .transport(options.transport()))
                .flatMap(created -> new Attempt(created, options).run()));
  }

  /** One connection attempt and the state it gathers. */
  private final class Attempt {

    private final SessionCreated created;
    private final ConnectOptions options;
    private final Sinks.One<SignalMessage> welcome = Sinks.one();
    private final Sinks.One<String> answer = Sinks.one();
    private final AtomicLong relayedIn = new AtomicLong();
    private final AtomicLong relayedOut = new AtomicLong();
    private volatile SignalSocket socket;
    private volatile PeerLink link;
    private volatile RelayChannels relay;
    private volatile UUID sessionId;

    Attempt(SessionCreated created, ConnectOptions options) {
      this.created = created;
      this.options = options;
      this.sessionId = created.getId();
    }

    Mono<RemoteSession> run() {
      URI url = URI.create(created.getSignalUrl());
      return SignalSocket.connect(signalClient, url)
          .timeout(options.signalTimeout())
          .onErrorMap(
              error -> !(error instanceof AirlockConnectException),
              error ->
                  new AirlockConnectException(
                      0,
                      "cannot reach the signal node at "
                          + url
                          + ": "
                          + (error instanceof TimeoutException
                              ? "no answer within " + options.signalTimeout().toSeconds() + " s"
                              : error.getMessage()),
                      error))
          .flatMap(this::handshake)
          .onErrorResume(
              error -> {
                cleanUp();
                return Mono.error(error);
              });
    }

    private Mono<RemoteSession> handshake(SignalSocket opened) {
      socket = opened;
      opened.messages().subscribe(this::onMessage);
      opened
          .relayFrames()
          .subscribe(
              frame -> {
                RelayChannels current = relay;
                if (current != null) {
                  current.accept(frame);
                }
              });
      opened
          .closed()
          .subscribe(
              closed -> {
                AirlockConnectException refused = refusal(closed);
                welcome.tryEmitError(refused);
                answer.tryEmitError(refused);
              });
      opened.send(
          new SignalMessage()
              .type(MessageType.HELLO)
              .protocol(SignalCodec.VERSION)
              .connectToken(created.getConnectToken()));
      return welcome
          .asMono()
          .timeout(
              options.signalTimeout(),
              Mono.error(
                  () ->
                      new AirlockConnectException(
                          "no welcome from the signal node within "
                              + options.signalTimeout().toSeconds()
                              + " s")))
          .flatMap(
              welcomed -> {
                if (welcomed.getSessionId() != null) {
                  sessionId = welcomed.getSessionId();
                }
                boolean relayOnly =
                    options.transport() == SessionTransport.RELAY
                        || welcomed.getTransport() == SignalMessage.TransportEnum.RELAY;
                return relayOnly ? viaRelay() : peerToPeer().onErrorResume(this::fallBack);
              });
    }

    private void onMessage(SignalMessage message) {
      switch (message.getType()) {
        case WELCOME -> welcome.tryEmitValue(message);
        case SDP -> {
          if (message.getSdpType() == SdpType.ANSWER) {
            answer.tryEmitValue(message.getSdp());
          }
        }
        case ICE -> {
          PeerLink current = link;
          if (current != null) {
            current.addRemoteCandidate(
                new PeerLink.IceCandidate(
                    message.getSdpMid(),
                    message.getSdpMLineIndex() == null ? 0 : message.getSdpMLineIndex(),
                    message.getCandidate()));
          }
        }
        case SESSION_CLOSE ->
            log.info("Session {} closed by the other side: {}", sessionId, message.getReason());
        case ERROR -> log.warn("Signal node: {}", message.getReason());
        default -> log.debug("Ignoring {} from the signal node", message.getType());
      }
    }

    private Mono<RemoteSession> peerToPeer() {
      return PeerLink.offerer(iceServers(), null, options.channels(), options.video())
          .flatMap(
              peer -> {
                link = peer;
                peer.localCandidates()
                    .subscribe(
                        candidate ->
                            socket.send(
                                new SignalMessage()
                                    .type(MessageType.ICE)
                                    .sessionId(sessionId)
                                    .candidate(candidate.candidate())
                                    .sdpMid(candidate.sdpMid())
                                    .sdpMLineIndex(candidate.sdpMLineIndex())));
                return peer.createOffer()
                    .doOnNext(
                        offer ->
                            socket.send(
                                new SignalMessage()
                                    .type(MessageType.SDP)
                                    .sessionId(sessionId)
                                    .sdpType(SdpType.OFFER)
                                    .sdp(offer)))
                    .then(answer.asMono())
                    .flatMap(
                        answerSdp -> {
                          FingerprintCheck.verify(expected(), answerSdp);
                          return peer.acceptAnswer(answerSdp);
                        })
                    .then(peer.connected())
                    .timeout(options.p2pTimeout())
                    .then(Mono.fromCallable(() -> session(SessionPath.P2P, peerChannels(peer))));
              });
    }

    private String expected() {
      return created.getAgentFingerprint();
    }

    private Map<String, Channel> peerChannels(PeerLink peer) {
      Map<String, Channel> channels = new LinkedHashMap<>();
      options.channels().forEach(label -> channels.put(label, peer.channel(label)));
      return channels;
    }

    private Mono<RemoteSession> fallBack(Throwable error) {
      if (error instanceof AirlockConnectException refused) {
        if (refused.closeCode() == 0 && socket.isOpen()) {
          // A fingerprint mismatch: the session must not go on, on any path.
          socket.send(
              new SignalMessage()
                  .type(MessageType.SESSION_CLOSE)
                  .sessionId(sessionId)
                  .reason("DTLS fingerprint mismatch"));
          return socket
              .close(CloseCodes.NORMAL, "DTLS fingerprint mismatch")
              .then(Mono.error(error));
        }
        return Mono.error(error);
      }
      log.info(
          "Session {}: peer to peer did not connect ({}); using the relay",
          sessionId,
          error instanceof TimeoutException
              ? "no connection within " + options.p2pTimeout().toSeconds() + " s"
              : error.getMessage());
      PeerLink current = link;
      link = null;
      Mono<Void> closing = current == null ? Mono.empty() : current.close();
      return closing.then(viaRelay());
    }

    private Mono<RemoteSession> viaRelay() {
      socket.send(new SignalMessage().type(MessageType.RELAY).sessionId(sessionId));
      RelayChannels channels = new RelayChannels(socket, sessionId, relayedIn, relayedOut);
      relay = channels;
      channels.remotelyOpened().subscribe(ignored -> {});
      Map<String, Channel> opened = new LinkedHashMap<>();
      return Flux.fromIterable(options.channels())
          .concatMap(label -> channels.open(label).doOnNext(c -> opened.put(label, c)))
          .then(Mono.fromCallable(() -> session(SessionPath.RELAY, opened)));
    }

    private RemoteSession session(SessionPath path, Map<String, Channel> channels) {
      return new RemoteSession(
          sessionId, created.getAgentId(), path, channels, socket, link, relay);
    }

    private List<IceServerConfig> iceServers() {
      List<IceServer> servers = created.getIceServers();
      return servers == null
          ? List.of()
          : servers.stream()
              .map(
                  server ->
                      new IceServerConfig()
                          .urls(server.getUrls())
                          .username(server.getUsername())
                          .credential(server.getCredential()))
              .toList();
    }

    private void cleanUp() {
      PeerLink current = link;
      if (current != null) {
        current.close().subscribe();
      }
      if (relay != null) {
        relay.close();
      }
      SignalSocket opened = socket;
      if (opened != null && opened.isOpen()) {
        opened.close(CloseCodes.NORMAL, "connect failed").subscribe();
      }
    }
  }

  /** The exception for a socket the node closed before the session was up. */
  static AirlockConnectException refusal(SignalSocket.Closed closed) {
    String what =
        switch (closed.code()) {
          case CloseCodes.UNAUTHENTICATED -> "the signal node refused the connect token";
          case CloseCodes.AGENT_NOT_HERE ->
              "the agent is not connected to the signal node that the platform named";
          case CloseCodes.TOKEN_REPLAYED -> "the connect token was already used";
          case CloseCodes.SESSION_TERMINATED -> "the platform terminated the session";
          case CloseCodes.TOO_MANY_SESSIONS -> "the agent has too many sessions";
          default -> "the signal node closed the connection";
        };
    return new AirlockConnectException(closed.code(), what + " (close " + closed + ")", null);
  }
}
