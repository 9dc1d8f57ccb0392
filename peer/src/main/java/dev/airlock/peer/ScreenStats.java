package dev.airlock.peer;

import dev.onvoid.webrtc.RTCStats;
import dev.onvoid.webrtc.RTCStatsReport;
import dev.onvoid.webrtc.RTCStatsType;
import java.util.Map;

/**
 * The screen track's sending figures, cumulative since the track started (libwebrtc's {@code
 * media-source} and {@code outbound-rtp} statistics).
 *
 * @param captured frames the capture handed to the track
 * @param encoded frames the encoder produced
 * @param sent frames put on the wire
 * @param width the width of the last encoded frame
 * @param height its height
 * @param bytesSent payload bytes sent
 * @param targetBitrate the encoder's current target, bits per second
 * @param limitation why the encoder holds back ({@code none}, {@code cpu}, {@code bandwidth},
 *     {@code other})
 */
public record ScreenStats(
    long captured,
    long encoded,
    long sent,
    long width,
    long height,
    long bytesSent,
    double targetBitrate,
    String limitation) {

  static ScreenStats of(RTCStatsReport report) {
    Map<String, Object> source = null;
    Map<String, Object> outbound = null;
    for (RTCStats stats : report.getStats().values()) {
      Map<String, Object> attributes = stats.getAttributes();
      if (!"video".equals(attributes.get("kind"))) {
        continue;
      }
      if (stats.getType() == RTCStatsType.MEDIA_SOURCE) {
        source = attributes;
      } else if (stats.getType() == RTCStatsType.OUTBOUND_RTP) {
        outbound = attributes;
      }
    }
    if (outbound == null) {
      return null;
    }
    return new ScreenStats(
        number(source, "frames"),
        number(outbound, "framesEncoded"),
        number(outbound, "framesSent"),
        number(outbound, "frameWidth"),
        number(outbound, "frameHeight"),
        number(outbound, "bytesSent"),
        outbound.get("targetBitrate") instanceof Number n ? n.doubleValue() : 0,
        String.valueOf(outbound.getOrDefault("qualityLimitationReason", "none")));
  }

  private static long number(Map<String, Object> attributes, String name) {
    return attributes != null && attributes.get(name) instanceof Number n ? n.longValue() : 0;
  }
}
