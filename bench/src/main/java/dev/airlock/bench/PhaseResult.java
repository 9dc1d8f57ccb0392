package dev.airlock.bench;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The figures of one measured phase.
 *
 * @param scenario the scenario's short name
 * @param label the request
 * @param load how it was loaded, e.g. {@code 64 in flight} or {@code 1200/s}
 * @param targetRate the open-loop rate asked for, or 0 for closed loop
 * @param responses responses counted in the measurement window
 * @param seconds the window's length
 * @param errors responses (or failures) with an unexpected status
 * @param statuses count per HTTP status (0: no response)
 * @param meanBytes mean response body length
 * @param latencyMicros latencies of the counted responses, in microseconds
 * @param cpu CPU time used during the window
 * @param errorSamples the first few errors, verbatim
 */
record PhaseResult(
    String scenario,
    String label,
    String load,
    double targetRate,
    long responses,
    double seconds,
    long errors,
    Map<Integer, Long> statuses,
    long meanBytes,
    Histogram latencyMicros,
    CpuMeter.Usage cpu,
    List<String> errorSamples) {

  double rate() {
    return seconds <= 0 ? 0 : responses / seconds;
  }

  double percentileMillis(double percentile) {
    return latencyMicros.getTotalCount() == 0
        ? Double.NaN
        : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }

  double maxMillis() {
    return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getMaxValue() / 1000.0;
  }

  /** CPU microseconds per response of {@code nanos} over the window, or NaN when unknown. */
  double microsPerResponse(long nanos) {
    return nanos < 0 || responses == 0 ? Double.NaN : nanos / 1000.0 / responses;
  }
}
