package dev.airlock.agent.cluster;

import dev.airlock.agent.tunnel.StreamTargets;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.AgentPage;
import dev.airlock.sdk.tunnel.TunnelException;
import dev.airlock.sdk.tunnel.TunnelStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * The leaf's side of a trusted-cluster link: each stream the root routes here ({@code tunnel.open}
 * with the root user's name, cluster and roles) becomes a request of the leaf's own platform made
 * for that user ({@link AirlockClient#forClusterUser}), so that the leaf maps their roles, decides
 * and audits as for any of its users. Target {@code nodes} answers with the leaf's nodes the user
 * may see ({@code AgentPage} JSON); any other target opens a tunnel to that node through the leaf's
 * signal, and the stream carries its bytes.
 */
public final class LeafCluster implements StreamTargets {

  private static final Logger log = LoggerFactory.getLogger(LeafCluster.class);

  /** How long the leaf's platform and signal may take to open a stream. */
  public static final Duration OPEN_TIMEOUT = Duration.ofSeconds(15);

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final AirlockClient leaf;
  private final URI url;

  /**
   * @param leaf the leaf's platform, authenticated with the API key of its {@code
   *     airlock.trust.link-user}
   * @param url its URL, for the logs
   */
  public LeafCluster(AirlockClient leaf, URI url) {
    this.leaf = leaf;
    this.url = url;
  }

  @Override
  public String toString() {
    return "the leaf cluster at " + url;
  }

  @Override
  public Mono<FarEnd> dial(SignalMessage open) {
    if (open.getCluster() == null || open.getUsername() == null) {
      return Mono.error(
          new Unreachable("not a routed request (no cluster or user named); refused"));
    }
    List<String> roles = open.getRoles() == null ? List.of() : open.getRoles();
    AirlockClient asUser = leaf.forClusterUser(open.getCluster(), open.getUsername(), roles);
    String who = open.getCluster() + "/" + open.getUsername();
    if ("nodes".equals(open.getTarget())) {
      return nodes(asUser, who);
    }
    if (open.getNode() == null) {
      return Mono.error(new Unreachable("no node named; refused"));
    }
    log.info(
        "Routed stream for {} to {} on {}{}",
        who,
        open.getTarget(),
        open.getNode(),
        open.getLogin() == null ? "" : " as " + open.getLogin());
    return asUser
        .tunnel(open.getNode(), open.getTarget(), open.getLogin(), OPEN_TIMEOUT)
        .onErrorMap(error -> new Unreachable(refusal(error)))
        .map(Leaf::new);
  }

  /** The leaf's nodes {@code asUser} may see, as one JSON document, then the end. */
  private static Mono<FarEnd> nodes(AirlockClient asUser, String who) {
    return asUser
        .agents()
        .listAgents(AgentKind.NODE, null, null, 500, null)
        .timeout(OPEN_TIMEOUT)
        .onErrorMap(error -> new Unreachable(refusal(error)))
        .map(
            page -> {
              log.info("Listed {} nodes for {}", page.getItems().size(), who);
              return new Document(JSON.writeValueAsBytes(new AgentPage().items(page.getItems())));
            });
  }

  /** Why the leaf refused or failed, as the root's user is told. */
  private static String refusal(Throwable error) {
    if (error instanceof AirlockProblemException problem) {
      return "the leaf cluster refused (" + problem.status() + "): " + problem.detail();
    }
    if (error instanceof TunnelException tunnel) {
      return "the leaf cluster: " + tunnel.getMessage();
    }
    return "the leaf cluster cannot be reached: "
        + (error.getMessage() == null ? error.toString() : error.getMessage());
  }

  /** A stream through the leaf's own signal to its node. */
  private record Leaf(TunnelStream stream) implements FarEnd {

    @Override
    public Flux<ByteBuf> receive() {
      return stream.receive().map(Unpooled::wrappedBuffer);
    }

    @Override
    public Mono<Void> send(Flux<ByteBuf> bytes) {
      // The buffers are the caller's and released after each emission: copied out first.
      return stream
          .send(
              bytes.map(
                  buf -> {
                    ByteBuffer copy = ByteBuffer.allocate(buf.readableBytes());
                    buf.getBytes(buf.readerIndex(), copy);
                    return copy.flip();
                  }))
          // The leaf's end closed first (its target left): that is the stream's end, not a failure.
          .onErrorResume(error -> !stream.isOpen(), error -> Mono.empty());
    }

    @Override
    public void dispose() {
      stream.close().subscribe(done -> {}, error -> {});
    }
  }

  /** A stream that carries one document and ends. */
  private record Document(byte[] bytes) implements FarEnd {

    @Override
    public Flux<ByteBuf> receive() {
      return Flux.just(Unpooled.wrappedBuffer(bytes));
    }

    @Override
    public Mono<Void> send(Flux<ByteBuf> bytes) {
      return bytes.then();
    }

    @Override
    public void dispose() {}

    @Override
    public String toString() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }
}
