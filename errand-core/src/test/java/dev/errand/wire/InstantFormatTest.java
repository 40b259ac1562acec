package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InstantFormatTest {

  @Test
  void writesExactlyWhatInstantToStringWrites() {
    Random random = new Random(42);
    for (int i = 0; i < 200_000; i++) {
      long seconds = random.nextLong(-70_000_000_000L, 300_000_000_000L); // years ~-250 to ~11500
      int nano =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1_000;
            default -> random.nextInt(1_000_000_000);
          };
      Instant t = Instant.ofEpochSecond(seconds, nano);
      String text = InstantFormat.format(t);
      assertThat(text).isEqualTo(t.toString());
      assertThat(InstantFormat.parse(text)).isEqualTo(t);
    }
    assertThat(InstantFormat.format(Instant.EPOCH)).isEqualTo("1970-01-01T00:00:00Z");
    assertThat(InstantFormat.format(Instant.MAX)).isEqualTo(Instant.MAX.toString());
  }

  @Test
  void readsWhatTheJdkReadsAndRejectsWhatItRejects() {
    assertThat(InstantFormat.parse("2026-11-22T15:35:35.6Z"))
        .isEqualTo(Instant.parse("2026-11-22T15:35:35.6Z"));
    assertThat(InstantFormat.parse("2024-02-29T23:59:59.123456789Z"))
        .isEqualTo(Instant.parse("2024-02-29T23:59:59.123456789Z"));
    assertThat(InstantFormat.parse("2026-11-22T16:35:35+01:00"))
        .isEqualTo(Instant.parse("2026-11-22T15:35:35Z"));
    // The JDK's own leniencies (end of day, a leap second, an empty fraction) are kept.
    for (String odd :
        new String[] {"2026-11-22T24:00:00Z", "2026-11-22T23:59:60Z", "2026-11-22T15:35:35.Z"}) {
      assertThat(InstantFormat.parse(odd)).as(odd).isEqualTo(Instant.parse(odd));
    }
    for (String bad :
        new String[] {
          "2023-02-29T00:00:00Z",
          "2026-13-01T00:00:00Z",
          "2026-11-22T15:35:35.1234567890Z",
          "2026-11-2xT15:35:35Z"
        }) {
      assertThatThrownBy(() -> InstantFormat.parse(bad))
          .as(bad)
          .isInstanceOf(DateTimeParseException.class);
    }
  }
}
