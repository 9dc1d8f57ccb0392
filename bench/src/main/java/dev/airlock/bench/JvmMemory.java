package dev.airlock.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Another JVM's memory as its own tools report it: the heap in use right after a full GC ({@code
 * jcmd <pid> GC.run}, then {@code GC.heap_info}) and the process's resident set ({@code VmRSS} in
 * /proc). Used on the signal node, which the benchmarks start with a fixed {@code -Xmx}.
 */
record JvmMemory(long heapUsedBytes, long heapCommittedBytes, long rssBytes) {

  private static final Pattern HEAP = Pattern.compile("total (\\d+)K, used (\\d+)K");

  /** Runs a full GC in {@code pid} (twice, a second apart, so finalizable objects go too). */
  static JvmMemory afterGc(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    Thread.sleep(1000);
    jcmd(pid, "GC.run");
    Thread.sleep(500);
    String info = jcmd(pid, "GC.heap_info");
    Matcher m = HEAP.matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("jcmd " + pid + " GC.heap_info: no heap line in\n" + info);
    }
    return new JvmMemory(
        Long.parseLong(m.group(2)) * 1024, Long.parseLong(m.group(1)) * 1024, rss(pid));
  }

  /**
   * The "Total", "Java Heap" and "Other" (direct buffers: Netty's pooled arenas) lines of {@code
   * jcmd <pid> VM.native_memory summary}; a note when the JVM runs without
   * -XX:NativeMemoryTracking.
   */
  static String nativeSummary(long pid) throws IOException, InterruptedException {
    String out;
    try {
      out = jcmd(pid, "VM.native_memory summary scale=MB");
    } catch (IllegalStateException e) {
      return "(no native memory tracking)";
    }
    StringBuilder picked = new StringBuilder();
    for (String line : out.split("\n")) {
      String t = line.trim();
      if (t.startsWith("Total:")
          || t.startsWith("-") && t.contains("Java Heap")
          || t.startsWith("-") && t.contains("Other")) {
        picked.append(picked.length() == 0 ? "" : "; ").append(t.replaceAll("\\s+", " "));
      }
    }
    return picked.length() == 0 ? "(no native memory tracking)" : picked.toString();
  }

  static long rss(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p =
        new ProcessBuilder(List.of(jcmd.toString(), String.valueOf(pid), command))
            .redirectErrorStream(true)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "jcmd " + pid + " " + command + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }

  @Override
  public String toString() {
    return "heap used after GC "
        + mib(heapUsedBytes)
        + " (committed "
        + mib(heapCommittedBytes)
        + "), RSS "
        + mib(rssBytes);
  }
}
