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
 *   <li>generates an EC P-256 identity key and says {@code hello} with its targets ({@code tcp:7})
 *       and an enrolment (a join token of kind {@code node}, the public JWK, a random DTLS
 *       fingerprint, a unique hostname), and waits for {@code welcome}, which must name a {@code
 *       tunnelUrl};
 *   <li>then (a second step, so that each connection's cost is measured on its own) opens its own
 *       HTTP/2 connection over TLS to that URL, with the agent's settings (256 KiB stream window,
 *       32 MiB connection window, the deployment's CA as the only trust anchor), and sends {@code
 *       GET /tunnel/v1/ping}, which must answer 204;
 *   <li>and then idles as an agent does: a {@code heartbeat} on its WebSocket and a ping on its
 *       tunnel every 20 s, spread evenly over all nodes.
 * </ol>
 *
 * <p>The signal node's heap after a full GC ({@code jcmd GC.run} twice, {@code GC.heap_info}), its
 * RSS and (with {@code -XX:NativeMemoryTracking}) its native memory are read before the first
 * connection, once every node holds its WebSocket, and once every node also holds its tunnel and
 * all have idled for {@code --hold}. A node needs two file descriptors in this driver and two in
 * the signal node; the script sizes {@code --count} to the open-files limit.
 *
 * <p>One JVM holds at most {@code --per-worker} (5,000) nodes: the coordinator (this class without
 * {@code --worker}) starts as many worker JVMs as needed, tells them when to go on through their
 * standard input, and reads their counts from their standard output.
 *
 * <p>Options ({@code --key=value}): {@code signal-url} (ws://127.0.0.1:PORT/signal/v1/agent),
 * {@code join-tokens} (comma-separated, used in turn), {@code signal-pid}, {@code ca-file}, {@code
 * tunnel-host} (dial this host instead of the one in {@code tunnelUrl}, keeping its port: the
 * certificate must name it), {@code count} (10000), {@code concurrency} (32, in all), {@code
 * sources} (8: 127.0.0.2 …), {@code time-limit} (600 s for each step), {@code hold} (70 s: longer
 * than the node's 60 s silence limit), {@code per-worker} (5000), {@code worker-xmx} (2g), {@code
 * signal-heap} (for the table's title, e.g. -Xmx2g), {@code results} (a file the Markdown table is
 * appended to).
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
        "IDLE NODES: %d synthetic edge nodes in %d worker JVM(s), %d enrolments or tunnel opens in"
            + " flight%n",
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
      // Step 1: every node enrols and keeps its WebSocket.
      long t0 = System.nanoTime();
      for (WorkerProcess worker : started) {
        worker.tell("enrol");
      }
      long welcomed = 0;
      long refused = 0;
      long welcomeNanos = 0;
      List<String> refusals = new ArrayList<>();
      for (WorkerProcess worker : started) {
        String[] r = worker.await("ENROLLED", timeLimit.plusMinutes(2));
        welcomed += Long.parseLong(r[0]);
        refused += Long.parseLong(r[1]);
        welcomeNanos += Long.parseLong(r[2]);
        if (!r[3].isEmpty()) {
          refusals.add(r[3]);
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
      JvmMemory sockets = JvmMemory.afterGc(signalPid);
      String nativeSockets = JvmMemory.nativeSummary(signalPid);
      System.out.println("signal node with the WebSockets: " + sockets + "; " + nativeSockets);

      // Step 2: every welcomed node opens its tunnel connection.
      long t1 = System.nanoTime();
      for (WorkerProcess worker : started) {
        worker.tell("tunnels");
      }
      long up = 0;
      long failed = 0;
      String tls = "";
      List<String> failures = new ArrayList<>();
      for (WorkerProcess worker : started) {
        String[] r = worker.await("TUNNELS", timeLimit.plusMinutes(2));
        up += Long.parseLong(r[0]);
        failed += Long.parseLong(r[1]);
        tls = tls.isEmpty() ? r[2] : tls;
        if (!r[3].isEmpty()) {
          failures.add(r[3]);
        }
      }
      double tunnelSeconds = (System.nanoTime() - t1) / 1e9;
      System.out.printf(
          "TUNNELS %d of %d up in %.1f s = %.0f/s (%s); %d failed %s%n",
          up, welcomed, tunnelSeconds, up / tunnelSeconds, tls.replace('_', ' '), failed, failures);

      // Step 3: idle, past the node's silence limit.
      long cpu0 = cpuNanos(signalPid);
      long holdStart = System.nanoTime();
      Thread.sleep(hold.toMillis());
      long cpuHold = cpuNanos(signalPid) - cpu0;
      long holdNanos = System.nanoTime() - holdStart;
      long socketsOpen = 0;
      long tunnelsOpen = 0;
      long heartbeats = 0;
      long pingsOk = 0;
      long pingsFailed = 0;
      for (WorkerProcess worker : started) {
        worker.tell("status");
        String[] r = worker.await("STATUS", Duration.ofSeconds(60));
        socketsOpen += Long.parseLong(r[0]);
        tunnelsOpen += Long.parseLong(r[1]);
        heartbeats += Long.parseLong(r[2]);
        pingsOk += Long.parseLong(r[3]);
        pingsFailed += Long.parseLong(r[4]);
      }
      JvmMemory after = JvmMemory.afterGc(signalPid);
      String nativeAfter = JvmMemory.nativeSummary(signalPid);
      System.out.println(
          "signal node with the tunnels too, after the hold: " + after + "; " + nativeAfter);
      System.out.printf(
          "IDLE after %d s: %d WebSockets and %d tunnel connections still open; %d heartbeats, %d"
              + " tunnel pings answered, %d failed; signal node CPU while idle %.1f %% of one core%n",
          hold.toSeconds(),
          socketsOpen,
          tunnelsOpen,
          heartbeats,
          pingsOk,
          pingsFailed,
          100.0 * cpuHold / holdNanos);

      long wsHeap = sockets.heapUsedBytes() - before.heapUsedBytes();
      long tunnelHeap = after.heapUsedBytes() - sockets.heapUsedBytes();
      long totalHeap = after.heapUsedBytes() - before.heapUsedBytes();
      long wsRss = sockets.rssBytes() - before.rssBytes();
      long tunnelRss = after.rssBytes() - sockets.rssBytes();
      long totalRss = after.rssBytes() - before.rssBytes();
      long nodes = Math.min(socketsOpen, tunnelsOpen);
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
              "| enrolled, WebSocket each (heartbeats) | %d | %s | %s | %s | %s |%n",
              welcomed,
              JvmMemory.mib(sockets.heapUsedBytes()),
              perNode(wsHeap, welcomed),
              JvmMemory.mib(sockets.rssBytes()),
              perNode(wsRss, welcomed)));
      table.append(
          String.format(
              "| + HTTP/2 over TLS tunnel connection each (%d s idle, pinged every 20 s) | %d + %d"
                  + " | %s | %s (%s in all) | %s | %s (%s in all) |%n",
              hold.toSeconds(),
              socketsOpen,
              tunnelsOpen,
              JvmMemory.mib(after.heapUsedBytes()),
              perNode(tunnelHeap, tunnelsOpen),
              perNode(totalHeap, nodes),
              JvmMemory.mib(after.rssBytes()),
              perNode(tunnelRss, tunnelsOpen),
              perNode(totalRss, nodes)));
      table.append('\n');
      table.append(
          String.format(
              "Enrolment %.0f/s (%d refused), tunnel connections %.0f/s (%d failed; %s); signal"
                  + " node CPU while idle %.1f %% of one core. At this cost, 10,000 idle nodes"
                  + " take ≈ %s of heap after GC on top of the node's own %s.%n",
              welcomed / enrolSeconds,
              refused,
              up / tunnelSeconds,
              failed,
              tls.replace('_', ' '),
              100.0 * cpuHold / holdNanos,
              nodes == 0 ? "?" : JvmMemory.mib(totalHeap / nodes * 10_000),
              JvmMemory.mib(before.heapUsedBytes())));
      table.append('\n');
      if (!nativeBefore.startsWith("(no")) {
        table.append(
            String.format(
                "Native memory: before %s; WebSockets %s; tunnels too %s.%n%n",
                nativeBefore, nativeSockets, nativeAfter));
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
      return failed == 0 && refused == 0 && tunnelsOpen == up && socketsOpen == welcomed ? 0 : 1;
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

  /** One node: its WebSocket, its tunnel connection once opened. */
  private static final class Node {
    final int index;
    final SignalSocket socket;
    final URI tunnelUrl;
    volatile HttpClient tunnel;
    volatile Channel connection;

    Node(int index, SignalSocket socket, URI tunnelUrl) {
      this.index = index;
      this.socket = socket;
      this.tunnelUrl = tunnelUrl;
    }
  }

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
    private final List<HttpClient> socketClients = new ArrayList<>();
    private volatile boolean tunnelsUp;

    Worker(Map<String, String> o) {
      this.o = o;
      int sourceCount = Integer.parseInt(o.getOrDefault("sources", "8"));
      for (int s = 0; s < sourceCount; s++) {
        InetSocketAddress source = new InetSocketAddress("127.0.0." + (2 + s), 0);
        sources.add(source);
        // No pool: an upgraded WebSocket keeps its connection for good.
        socketClients.add(
            HttpClient.newConnection()
                .bindAddress(() -> source)
                .responseTimeout(Duration.ofSeconds(30)));
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
                if (tunnelsUp && node.tunnel != null) {
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
          case "tunnels" -> tunnels();
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
        enrolOne(i, socketClients.get(i % socketClients.size()), signal, hello, inFlight);
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
          "ENROLLED %d %d %d %s%n",
          nodes.size(), refused.get(), welcomeNanos.get(), refusals.isEmpty() ? "" : why);
    }

    private static boolean acquire(Semaphore semaphore, long deadline) throws InterruptedException {
      while (!semaphore.tryAcquire(200, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          return false;
        }
      }
      return true;
    }

    private void enrolOne(
        int index, HttpClient client, URI signal, SignalMessage hello, Semaphore inFlight) {
      long t0 = System.nanoTime();
      AtomicInteger settled = new AtomicInteger();
      Runnable release =
          () -> {
            if (settled.compareAndSet(0, 1)) {
              inFlight.release();
            }
          };
      SignalSocket.connect(client, signal)
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
                            nodes.add(new Node(index, socket, URI.create(message.getTunnelUrl())));
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

    private void tunnels() throws Exception {
      int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "32"));
      Duration timeLimit = Duration.parse("PT" + o.getOrDefault("time-limit", "600s"));
      String host = o.get("tunnel-host");
      // One TLS context for all, as each agent builds one for itself: what is measured is the
      // signal node's side.
      SslProvider ssl =
          SslProvider.builder()
              .sslContext(
                  Http2SslContextSpec.forClient()
                      .configure(b -> b.trustManager(new File(o.get("ca-file")))))
              .build();
      Semaphore inFlight = new Semaphore(concurrency);
      long deadline = System.nanoTime() + timeLimit.toNanos();
      AtomicInteger up = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
      long start = System.nanoTime();
      long lastReport = start;
      for (Node node : nodes) {
        if (!acquire(inFlight, deadline)) {
          break;
        }
        URI url = node.tunnelUrl;
        if (host != null && !host.isBlank()) {
          url = URI.create(url.getScheme() + "://" + host + ":" + url.getPort());
        }
        InetSocketAddress source = sources.get(node.index % sources.size());
        // A pool of one connection per node, as the agent's TunnelLink has: that is the tunnel.
        ConnectionProvider pool =
            ConnectionProvider.builder("tunnel-" + node.index)
                .maxConnections(1)
                .pendingAcquireMaxCount(-1)
                .pendingAcquireTimeout(Duration.ofSeconds(30))
                .build();
        node.tunnel =
            HttpClient.create(pool)
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
                    c ->
                        connected(
                            node,
                            c.channel().parent() != null ? c.channel().parent() : c.channel()));
        ping(node)
            .timeout(Duration.ofSeconds(30))
            .subscribe(
                ok -> {},
                error -> {
                  failed.incrementAndGet();
                  String key = String.valueOf(error);
                  key = key.length() > 80 ? key.substring(0, 80) : key;
                  if (failures.size() < 10 || failures.containsKey(key)) {
                    failures.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                  }
                  inFlight.release();
                },
                () -> {
                  up.incrementAndGet();
                  inFlight.release();
                });
        long now = System.nanoTime();
        if (now - lastReport > 10_000_000_000L) {
          lastReport = now;
          out.printf(
              "  %.0f s: %d tunnels up, %d failed%n", (now - start) / 1e9, up.get(), failed.get());
        }
      }
      inFlight.tryAcquire(concurrency, 60, TimeUnit.SECONDS);
      inFlight.release(concurrency);
      tunnelsUp = true;
      out.printf(
          "TUNNELS %d %d %s %s%n",
          up.get(),
          failed.get(),
          tls.get().replace(' ', '_'),
          failures.isEmpty() ? "" : failures.toString().replace(' ', '_'));
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

    private void connected(Node node, Channel connection) {
      if (connection == null || connection.attr(WINDOW_OPENED).setIfAbsent(Boolean.TRUE) != null) {
        return;
      }
      node.connection = connection;
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
