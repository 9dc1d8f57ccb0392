package dev.airlock.platform.job;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One run of a job as the job sees it: what started it, and the counts it reports as it goes
 * ({@code archived}, {@code users.created}…), shown in {@code GET /jobs/{name}/runs}.
 *
 * @param id the run's id
 * @param trigger {@code schedule} or {@code manual}
 * @param triggeredBy the administrator who ran it by hand, or null
 */
public record JobContext(String id, String trigger, String triggeredBy, Counts counts) {

  JobContext(String id, String trigger, String triggeredBy) {
    this(id, trigger, triggeredBy, new Counts());
  }

  /** Adds {@code n} to the count {@code name}. */
  public void add(String name, long n) {
    counts.add(name, n);
  }

  /** The counts so far, in the order they were first reported. */
  public Map<String, Long> snapshot() {
    return counts.snapshot();
  }

  /** Counters a run updates from any thread. */
  public static final class Counts {
    private final Map<String, AtomicLong> values = new LinkedHashMap<>();

    synchronized void add(String name, long n) {
      values.computeIfAbsent(name, k -> new AtomicLong()).addAndGet(n);
    }

    synchronized Map<String, Long> snapshot() {
      Map<String, Long> copy = new LinkedHashMap<>();
      values.forEach((k, v) -> copy.put(k, v.get()));
      return copy;
    }
  }
}
