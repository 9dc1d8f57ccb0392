package dev.airlock.bench;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.TunnelWire;
import dev.airlock.protocol.message.Enrolment;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.protocol.message.TunnelTarget;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.tcp.SslProvider;

/**
 * How many idle edge nodes one signal node holds, and what each costs it: the reverse-tunnel
 * counterpart of {@link IdleAgents}. A benchmark, not a test; run by {@code bench/run-tunnel.sh
 * idle}. Each synthetic node does what a node agent ({@code agent/}, {@code AgentConnection} and
 * {@code TunnelLink}) does, speaking {@code openapi/signal.yaml} itself:
 *
 * <ol>
 *   <li>opens its own HTTP/2 connection over TLS to the node's {@code tunnelUrl} (read once per
 *       worker from {@code GET /signal/v1/health}, where each agent reads it at every connect),
 *       with the agent's settings (256 KiB stream window, 32 MiB connection window, the
 *       deployment's CA as the only trust anchor), and on it the signalling stream, {@code POST
 *       /tunnel/v1/control};
 *   <li>generates an EC P-256 identity key and says {@code hello} there with its targets ({@code
 *       tcp:7}) and an enrolment (a join token of kind {@code node}, the public JWK, a random DTLS
 *       fingerprint, a unique hostname), and waits for {@code welcome}, which must name the {@code
 *       tunnelUrl};
 *   <li>and then idles as an agent does: a {@code heartbeat} on its signalling stream and a {@code
 *       GET /tunnel/v1/ping} on its connection every 20 s, spread evenly over all nodes.
 * </ol>
 *
 * <p>The signal node's heap after a full GC ({@code jcmd GC.run} twice, {@code GC.heap_info}), its
 * RSS and (with {@code -XX:NativeMemoryTracking}) its native memory are read before the first
 * connection and once every node is enrolled and all have idled for {@code --hold}. A node needs
 * one file descriptor in this driver and one in the signal node; the script sizes {@code --count}
 * to the open-files limit.
 *
 * <p>One JVM holds at most {@code --per-worker} (5,000) nodes: the coordinator (this class without
 * {@code --worker}) starts as many worker JVMs as needed, tells them when to go on through their
 * standard input, and reads their counts from their standard output.
 *
 * <p>Options ({@code --key=value}): {@code signal-url} (ws://127.0.0.1:PORT/signal/v1/agent: its
 * health endpoint is asked for the tunnel URL), {@code join-tokens} (comma-separated, used in
 * turn), {@code signal-pid}, {@code ca-file}, {@code tunnel-host} (dial this host instead of the
 * one in {@code tunnelUrl}, keeping its port: the certificate must name it), {@code count} (10000),
 * {@code concurrency} (32, in all), {@code sources} (8: 127.0.0.2 …), {@code time-limit} (600 s for
 * each step), {@code hold} (70 s: longer than the node's 60 s silence limit), {@code per-worker}
 * (5000), {@code worker-xmx} (2g), {@code signal-heap} (for the table's title, e.g. -Xmx2g), {@code
 * results} (a file the Markdown table is appended to).
 */
public final class IdleNodes {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration HEARTBEAT = Duration.ofSeconds(20);
  private static final AttributeKey<Boolean> WINDOW_OPENED =
      AttributeKey.valueOf("airlock.bench.window");

  private IdleNodes() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = SignalBench.options(args);
    int status;
    try {
      status = o.containsKey("worker") ? new Worker(o).run() : coordinate(o);
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    System.exit(status);
  }

  // --- coordinator ---------------------------------------------------------------------------

  /** A worker JVM: its standard input takes commands, its standard output gives counts. */
  private record WorkerProcess(
      Process process, PrintWriter commands, BlockingQueue<String> replies) {

    void tell(String command) {
      commands.println(command);
      commands.flush();
    }

    /** The next reply starting with {@code kind}; progress lines are printed as they come. */
    String[] await(String kind, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        String line = replies.poll(1, TimeUnit.SECONDS);
        if (line == null) {
          if (!process.isAlive() && replies.isEmpty()) {
            throw new IllegalStateException(
                "worker " + process.pid() + " exited (" + process.exitValue() + ") before " + kind);
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "worker " + process.pid() + ": no " + kind + " in time");
          }
          continue;
        }
        if (line.startsWith(kind + " ")) {
          return line.substring(kind.length() + 1).split(" ", -1);
        }
      }
    }
  }

  private static int coordinate(Map<String, String> o) throws Exception {
    long signalPid = Long.parseLong(o.get("signal-pid"));
    int count = Integer.parseInt(o.getOrDefault("count", "10000"));
    int perWorker = Integer.parseInt(o.getOrDefault("per-worker", "5000"));
    int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "32"));
    Duration timeLimit = Duration.parse("PT" + o.getOrDefault("time-limit", "600s"));
    Duration hold = Duration.parse("PT" + o.getOrDefault("hold", "70s"));
    int workers = Math.max(1, (count + perWorker - 1) / perWorker);
    String run = Long.toString(System.currentTimeMillis(), 36);
    System.out.printf(
        "IDLE NODES: %d synthetic edge nodes in %d worker JVM(s), %d enrolments in flight%n",
        count, workers, concurrency);

    JvmMemory before = JvmMemory.afterGc(signalPid);
    String nativeBefore = JvmMemory.nativeSummary(signalPid);
    System.out.println("signal node before: " + before + "; " + nativeBefore);

    List<WorkerProcess> started = new ArrayList<>();
    try {
      int first = 0;
      for (int w = 0; w < workers; w++) {
        int share = count / workers + (w < count % workers ? 1 : 0);
        started.add(startWorker(o, run, w, first, share, Math.max(1, concurrency / workers)));
        first += share;
      }
      // Step 1: every node connects, enrols on its signalling stream and keeps its connection.
      long t0 = System.nanoTime();
      for (WorkerProcess worker : started) {
        worker.tell("enrol");
      }
      long welcomed = 0;
      long refused = 0;
      long welcomeNanos = 0;
      String tls = "";
      List<String> refusals = new ArrayList<>();
      for (WorkerProcess worker : started) {
        String[] r = worker.await("ENROLLED", timeLimit.plusMinutes(2));
        welcomed += Long.parseLong(r[0]);
        refused += Long.parseLong(r[1]);
        welcomeNanos += Long.parseLong(r[2]);
        tls = tls.isEmpty() ? r[3] : tls;
        if (!r[4].isEmpty()) {
          refusals.add(r[4]);
        }
      }
      double enrolSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "ENROLLED %d of %d in %.1f s = %.0f/s; %d refused %s; mean hello→welcome %.1f ms%n",
          welcomed,
          count,
          enrolSeconds,
          welcomed / enrolSeconds,
          refused,
          refusals,
          welcomed == 0 ? 0 : welcomeNanos / 1e6 / welcomed);
      // Step 2: idle, past the node's silence limit.
      long cpu0 = cpuNanos(signalPid);
      long holdStart = System.nanoTime();
      Thread.sleep(hold.toMillis());
      long cpuHold = cpuNanos(signalPid) - cpu0;
      long holdNanos = System.nanoTime() - holdStart;
      long streamsOpen = 0;
      long tunnelsOpen = 0;
      long heartbeats = 0;
      long pingsOk = 0;
      long pingsFailed = 0;
      for (WorkerProcess worker : started) {
        worker.tell("status");
        String[] r = worker.await("STATUS", Duration.ofSeconds(60));
        streamsOpen += Long.parseLong(r[0]);
        tunnelsOpen += Long.parseLong(r[1]);
        heartbeats += Long.parseLong(r[2]);
        pingsOk += Long.parseLong(r[3]);
        pingsFailed += Long.parseLong(r[4]);
      }
      JvmMemory after = JvmMemory.afterGc(signalPid);
      String nativeAfter = JvmMemory.nativeSummary(signalPid);
      System.out.println(
          "signal node with the nodes, after the hold: " + after + "; " + nativeAfter);
      System.out.printf(
          "IDLE after %d s: %d tunnel connections and %d signalling streams still open; %d"
              + " heartbeats, %d tunnel pings answered, %d failed; signal node CPU while idle %.1f %%"
              + " of one core%n",
          hold.toSeconds(),
          tunnelsOpen,
          streamsOpen,
          heartbeats,
          pingsOk,
          pingsFailed,
          100.0 * cpuHold / holdNanos);

      long totalHeap = after.heapUsedBytes() - before.heapUsedBytes();
      long totalRss = after.rssBytes() - before.rssBytes();
      long nodes = Math.min(streamsOpen, tunnelsOpen);
      StringBuilder table = new StringBuilder();
      table.append(
          String.format(
              "### %d idle edge nodes on one signal node (%s)%n%n",
              nodes, o.getOrDefault("signal-heap", "its heap limit as started")));
      table.append("| step | connections | heap after GC | heap per node | RSS | RSS per node |\n");
      table.append("|---|--:|--:|--:|--:|--:|\n");
      table.append(
          String.format(
              "| before | 0 | %s | – | %s | – |%n",
              JvmMemory.mib(before.heapUsedBytes()), JvmMemory.mib(before.rssBytes())));
      table.append(
          String.format(
              "| enrolled, one HTTP/2 over TLS connection each, signalling on a stream of it (%d s"
                  + " idle, heartbeat and ping every 20 s) | %d | %s | %s | %s | %s |%n",
              hold.toSeconds(),
              tunnelsOpen,
              JvmMemory.mib(after.heapUsedBytes()),
              perNode(totalHeap, nodes),
              JvmMemory.mib(after.rssBytes()),
              perNode(totalRss, nodes)));
      table.append('\n');
      table.append(
          String.format(
              "Connections and enrolments %.0f/s (%d refused; %s); signal node CPU while idle %.1f"
                  + " %% of one core. At this cost, 10,000 idle nodes take ≈ %s of heap after GC on"
                  + " top of the node's own %s.%n",
              welcomed / enrolSeconds,
              refused,
              tls.replace('_', ' '),
              100.0 * cpuHold / holdNanos,
              nodes == 0 ? "?" : JvmMemory.mib(totalHeap / nodes * 10_000),
              JvmMemory.mib(before.heapUsedBytes())));
      table.append('\n');
      if (!nativeBefore.startsWith("(no")) {
        table.append(
            String.format(
                "Native memory: before %s; with the nodes %s.%n%n", nativeBefore, nativeAfter));
      }
      System.out.println();
      System.out.println(table);
      String results = o.get("results");
      if (results != null && !results.isBlank()) {
        Files.writeString(
            Path.of(results),
            table.toString(),
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
      return refused == 0 && pingsFailed == 0 && tunnelsOpen == welcomed && streamsOpen == welcomed
          ? 0
          : 1;
    } finally {
      for (WorkerProcess worker : started) {
        worker.tell("exit");
      }
      for (WorkerProcess worker : started) {
        if (!worker.process().waitFor(30, TimeUnit.SECONDS)) {
          worker.process().destroyForcibly();
        }
      }
    }
  }

  private static String perNode(long bytes, long nodes) {
    return nodes <= 0 ? "–" : String.format("%,d B", bytes / nodes);
  }

  private static WorkerProcess startWorker(
      Map<String, String> o, String run, int index, int first, int count, int concurrency)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + o.getOrDefault("worker-xmx", "2g"));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(IdleNodes.class.getName());
    command.add("--worker");
    command.add("--run=" + run);
    command.add("--first=" + first);
    command.add("--count=" + count);
    command.add("--concurrency=" + concurrency);
    for (String key :
        List.of("signal-url", "join-tokens", "ca-file", "tunnel-host", "sources", "time-limit")) {
      if (o.containsKey(key)) {
        command.add("--" + key + "=" + o.get(key));
      }
    }
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.startsWith("  ")) {
                    System.out.println("  [worker " + index + "]" + line);
                  } else {
                    replies.add(line);
                  }
                }
              } catch (IOException e) {
                // the worker is gone
              }
            },
            "worker-" + index);
    reader.setDaemon(true);
    reader.start();
    return new WorkerProcess(
        process, new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8), replies);
  }

  private static long cpuNanos(long pid) {
    return ProcessHandle.of(pid)
        .flatMap(p -> p.info().totalCpuDuration())
        .map(Duration::toNanos)
        .orElse(0L);
  }

  // --- worker --------------------------------------------------------------------------------

  /** One node: its tunnel connection (a pool of one) and the signalling stream on it. */
  private record Node(int index, HttpClient tunnel, SignalSocket socket) {}

  /** Plays {@code --count} nodes from {@code --first} on, on commands from its standard input. */
  private static final class Worker {

    private final Map<String, String> o;
    private final PrintStream out = System.out;
    private final List<Node> nodes = new CopyOnWriteArrayList<>();
    private final Set<Channel> tunnelConnections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicLong welcomeNanos = new AtomicLong();
    private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
    private final AtomicLong heartbeats = new AtomicLong();
    private final AtomicLong pingsOk = new AtomicLong();
    private final AtomicLong pingsFailed = new AtomicLong();
    private final AtomicReference<String> tls = new AtomicReference<>("");
    private final List<InetSocketAddress> sources = new ArrayList<>();

    Worker(Map<String, String> o) {
      this.o = o;
      int sourceCount = Integer.parseInt(o.getOrDefault("sources", "8"));
      for (int s = 0; s < sourceCount; s++) {
        sources.add(new InetSocketAddress("127.0.0." + (2 + s), 0));
      }
    }

    int run() throws Exception {
      BufferedReader commands =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      ScheduledExecutorService idle = Executors.newSingleThreadScheduledExecutor();
      // Every 100 ms, one 200th of the nodes sends its heartbeat and pings its tunnel: each node
      // every 20 s, as the agent does, spread out.
      int slices = (int) (HEARTBEAT.toMillis() / 100);
      AtomicLong tick = new AtomicLong();
      idle.scheduleAtFixedRate(
          () -> {
            int slice = (int) (tick.getAndIncrement() % slices);
            List<Node> all = nodes;
            for (int i = slice; i < all.size(); i += slices) {
              Node node = all.get(i);
              try {
                if (node.socket.isOpen()) {
                  node.socket.send(new SignalMessage().type(MessageType.HEARTBEAT));
                  heartbeats.incrementAndGet();
                }
                if (node.socket.isOpen()) {
                  ping(node)
                      .timeout(Duration.ofSeconds(15))
                      .subscribe(
                          ok -> {},
                          error -> pingsFailed.incrementAndGet(),
                          pingsOk::incrementAndGet);
                }
              } catch (RuntimeException e) {
                // A scheduled task that throws is never run again: count it and go on.
                pingsFailed.incrementAndGet();
              }
            }
          },
          100,
          100,
          TimeUnit.MILLISECONDS);
      String command;
      while ((command = commands.readLine()) != null) {
        switch (command.trim()) {
          case "enrol" -> enrol();
          case "status" ->
              out.printf(
                  "STATUS %d %d %d %d %d%n",
                  nodes.stream().filter(n -> n.socket.isOpen()).count(),
                  tunnelConnections.size(),
                  heartbeats.get(),
                  pingsOk.get(),
                  pingsFailed.get());
          case "exit" -> {
            idle.shutdownNow();
            return 0;
          }
          default -> out.println("  unknown command " + command);
        }
        out.flush();
      }
      idle.shutdownNow();
      return 0;
    }

    private void enrol() throws Exception {
      URI signal = URI.create(o.get("signal-url"));
      String[] joinTokens = o.get("join-tokens").split(",");
      int first = Integer.parseInt(o.get("first"));
      int count = Integer.parseInt(o.get("count"));
      int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "32"));
      Duration timeLimit = Duration.parse("PT" + o.getOrDefault("time-limit", "600s"));
      String run = o.get("run");
      Semaphore inFlight = new Semaphore(concurrency);
      long start = System.nanoTime();
      long deadline = start + timeLimit.toNanos();
      long lastReport = start;
      ECKeyGenerator generator = new ECKeyGenerator(Curve.P_256);
      URI tunnelUrl = tunnelUrl(signal);
      // One TLS context for all, as each agent builds one for itself: what is measured is the
      // signal node's side.
      SslProvider ssl =
          SslProvider.builder()
              .sslContext(
                  Http2SslContextSpec.forClient()
                      .configure(b -> b.trustManager(new File(o.get("ca-file")))))
              .build();
      for (int i = first; i < first + count && System.nanoTime() < deadline; i++) {
        if (!acquire(inFlight, deadline)) {
          break;
        }
        ECKey key = generator.generate();
        SignalMessage hello =
            new SignalMessage()
                .type(MessageType.HELLO)
                .protocol(SignalCodec.VERSION)
                .targets(
                    List.of(
                        new TunnelTarget()
                            .name("tcp:7")
                            .kind(TunnelTarget.KindEnum.TCP)
                            .description("TCP port")))
                .enrol(
                    new Enrolment()
                        .joinToken(joinTokens[i % joinTokens.length])
                        .publicKey(key.toPublicJWK().toJSONString())
                        .dtlsFingerprint(fingerprint())
                        .hostname("bench-node-" + run + "-" + i)
                        .version("bench"));
        enrolOne(i, tunnelClient(i, tunnelUrl, ssl), hello, inFlight);
        long now = System.nanoTime();
        if (now - lastReport > 10_000_000_000L) {
          lastReport = now;
          out.printf(
              "  %.0f s: %d welcomed, %d refused%n",
              (now - start) / 1e9, nodes.size(), refused.get());
        }
      }
      inFlight.tryAcquire(concurrency, 60, TimeUnit.SECONDS);
      inFlight.release(concurrency);
      String why = refusals.toString().replace(' ', '_');
      out.printf(
          "ENROLLED %d %d %d %s %s%n",
          nodes.size(),
          refused.get(),
          welcomeNanos.get(),
          tls.get().replace(' ', '_'),
          refusals.isEmpty() ? "" : why);
    }

    private static boolean acquire(Semaphore semaphore, long deadline) throws InterruptedException {
      while (!semaphore.tryAcquire(200, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          return false;
        }
      }
      return true;
    }

    /** The tunnel URL the signal node's health names (the host replaced by --tunnel-host). */
    private URI tunnelUrl(URI signal) {
      String base = signal.toString().replaceFirst("/signal/v1/agent$", "");
      String health = base.replaceFirst("^ws", "http") + "/signal/v1/health";
      String url =
          SignalCodec.decodeHealth(
                  HttpClient.create()
                      .get()
                      .uri(health)
                      .responseContent()
                      .aggregate()
                      .asString()
                      .block(Duration.ofSeconds(30)))
              .getTunnelUrl();
      if (url == null) {
        throw new IllegalStateException(health + " names no tunnelUrl: are tunnels on?");
      }
      URI tunnel = URI.create(url);
      String host = o.get("tunnel-host");
      return host == null || host.isBlank()
          ? tunnel
          : URI.create(tunnel.getScheme() + "://" + host + ":" + tunnel.getPort());
    }

    /** Node {@code index}'s tunnel connection: a pool of one, as the agent's TunnelLink has. */
    private HttpClient tunnelClient(int index, URI url, SslProvider ssl) {
      InetSocketAddress source = sources.get(index % sources.size());
      ConnectionProvider pool =
          ConnectionProvider.builder("tunnel-" + index)
              .maxConnections(1)
              .pendingAcquireMaxCount(-1)
              .pendingAcquireTimeout(Duration.ofSeconds(30))
              .build();
      return HttpClient.create(pool)
          .baseUrl(url.toString())
          .bindAddress(() -> source)
          .protocol(HttpProtocol.H2)
          .secure(ssl)
          .http2Settings(
              settings ->
                  settings
                      .initialWindowSize(TunnelWire.STREAM_WINDOW)
                      .pingAckTimeout(Duration.ofSeconds(15)))
          // On an HTTP/2 client this is called with the connection itself (no parent).
          .doOnConnected(
              c -> connected(c.channel().parent() != null ? c.channel().parent() : c.channel()));
    }

    private void enrolOne(int index, HttpClient client, SignalMessage hello, Semaphore inFlight) {
      long t0 = System.nanoTime();
      AtomicInteger settled = new AtomicInteger();
      Runnable release =
          () -> {
            if (settled.compareAndSet(0, 1)) {
              inFlight.release();
            }
          };
      SignalSocket.overStream(client, TunnelWire.CONTROL_PATH)
          .timeout(Duration.ofSeconds(30))
          .subscribe(
              socket -> {
                socket
                    .messages()
                    .subscribe(
                        message -> {
                          if (message.getType() == MessageType.WELCOME && settled.get() == 0) {
                            if (message.getTunnelUrl() == null) {
                              refusal("welcome without tunnelUrl (not a node, or tunnels off)");
                              release.run();
                              return;
                            }
                            welcomeNanos.addAndGet(System.nanoTime() - t0);
                            nodes.add(new Node(index, client, socket));
                            release.run();
                          }
                        },
                        error -> {},
                        () -> {});
                socket
                    .closed()
                    .subscribe(
                        c -> {
                          if (settled.get() == 0) {
                            refusal(String.valueOf(c));
                            release.run();
                          }
                        });
                socket.send(hello);
              },
              error -> {
                refusal(error.getClass().getSimpleName() + ": " + error.getMessage());
                release.run();
              });
    }

    private void refusal(String why) {
      refused.incrementAndGet();
      String key = why.length() > 80 ? why.substring(0, 80) : why;
      if (refusals.size() < 10 || refusals.containsKey(key)) {
        refusals.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      }
    }

    /** Completes empty when the tunnel endpoint answered 204. */
    private static Mono<Void> ping(Node node) {
      return node.tunnel
          .get()
          .uri(TunnelWire.PING_PATH)
          .responseSingle(
              (response, body) ->
                  response.status().code() == 204
                      ? Mono.<Void>empty()
                      : Mono.error(
                          new IllegalStateException("ping answered " + response.status())));
    }

    private void connected(Channel connection) {
      if (connection == null || connection.attr(WINDOW_OPENED).setIfAbsent(Boolean.TRUE) != null) {
        return;
      }
      tunnelConnections.add(connection);
      connection.closeFuture().addListener(f -> tunnelConnections.remove(connection));
      // The agent widens its connection window once (TunnelLink.openConnectionWindow).
      connection.writeAndFlush(
          new DefaultHttp2WindowUpdateFrame(
              TunnelWire.CONNECTION_WINDOW - TunnelWire.INITIAL_CONNECTION_WINDOW));
      if (tls.get().isEmpty()) {
        SslHandler handler = connection.pipeline().get(SslHandler.class);
        if (handler != null) {
          tls.compareAndSet(
              "",
              handler.engine().getSession().getProtocol()
                  + " "
                  + handler.engine().getSession().getCipherSuite());
        }
      }
    }

    private static String fingerprint() {
      byte[] digest = new byte[32];
      RANDOM.nextBytes(digest);
      return "sha-256 " + HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    }
  }
}
