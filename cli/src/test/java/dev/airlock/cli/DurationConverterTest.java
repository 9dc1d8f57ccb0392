package dev.airlock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationConverterTest {

  @ParameterizedTest
  @CsvSource({
    "90s, PT1M30S",
    "30m, PT30M",
    "2h, PT2H",
    "1h30m, PT1H30M",
    "1h0m5s, PT1H5S",
    "' 45S ', PT45S",
    "600s, PT10M"
  })
  void readsDurationsAsPeopleTypeThem(String text, Duration expected) {
    assertThat(DurationConverter.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "30", "5x", "1.5h", "-5m", "m", "0s", "0h0m", "30 m", "1d", "h30"})
  void refusesAnythingElseSayingWhatWasExpected(String text) {
    assertThatThrownBy(() -> DurationConverter.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'")
        .hasMessageContaining("expected: a duration such as 90s, 30m, 2h or 1h30m");
  }

  @ParameterizedTest
  @CsvSource({"PT0S, 0s", "PT42S, 42s", "PT5M, 5m", "PT1H5M, 1h5m", "PT1H0M7S, 1h7s", "PT26H, 26h"})
  void writesDurationsTheWayItReadsThem(Duration duration, String expected) {
    assertThat(DurationConverter.format(duration)).isEqualTo(expected);
    if (!duration.isZero()) {
      assertThat(DurationConverter.parse(expected)).isEqualTo(duration);
    }
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0.0s",
    "1234, 1.2s",
    "59949, 59.9s",
    "60000, 1m00s",
    "65400, 1m05s",
    "3600000, 60m00s"
  })
  void elapsedTimeIsShownToATenthOfASecondThenInMinutes(long millis, String expected) {
    assertThat(WaitProgress.elapsed(millis)).isEqualTo(expected);
  }
}
