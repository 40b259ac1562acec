package dev.errand.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Client;
import dev.errand.memory.InMemoryBackend;
import dev.errand.scheduler.internal.Firing;
import dev.errand.spi.Delivery;
import dev.errand.test.MutableClock;
import dev.errand.wire.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the scheduler sends is what {@code docs/wire-format.md} and its fixture {@code
 * message-schedule.json} (in errand-core's tests) describe: the same fields and headers, so a
 * consumer in another language can rely on them.
 */
class ScheduledMessageFormatTest {

  final MutableClock clock = new MutableClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).build();

  @AfterEach
  void close() {
    backend.close();
  }

  JsonNode sentMessage() throws Exception {
    List<Delivery> d =
        backend.broker().claim(List.of("reports"), 1, Duration.ofMinutes(1), Duration.ZERO);
    assertThat(d).hasSize(1);
    return Wire.mapper().readTree(d.get(0).body());
  }

  @Test
  void aTickCarriesTheFieldsAndHeadersOfTheFixtureAndTheDocs() throws Exception {
    Schedule nightly =
        Schedule.builder("nightly-report")
            .task("reports.nightly")
            .args(Wire.mapper().createObjectNode().put("kind", "daily"))
            .cron("30 2 * * *")
            .zone(ZoneId.of("Europe/Berlin"))
            .queue("reports")
            .expires(Duration.ofHours(1))
            .build();
    Firing.fireTick(client, nightly, clock.instant().minusSeconds(1));
    JsonNode sent = sentMessage();
    JsonNode fixture = Wire.mapper().readTree(Files.readAllBytes(fixture()));

    assertThat(names(sent)).isEqualTo(names(fixture));
    assertThat(names(sent.get("headers")))
        .isEqualTo(names(fixture.get("headers")))
        .containsExactlyInAnyOrder(Firing.SCHEDULE_HEADER, Firing.TICK_HEADER);
    assertThat(documentedHeaders()).containsAll(names(sent.get("headers")));
    Instant tick = Instant.parse(sent.get("headers").get(Firing.TICK_HEADER).asText());
    assertThat(tick).isEqualTo(clock.instant().minusSeconds(1));
  }

  @Test
  void runNowCarriesOnlyTheScheduleHeader() throws Exception {
    Firing.runNow(
        client,
        Schedule.builder("s").task("t").queue("reports").every(Duration.ofHours(1)).build());

    assertThat(names(sentMessage().get("headers"))).containsExactly(Firing.SCHEDULE_HEADER);
  }

  static Path fixture() {
    return upwards("errand-core/src/test/resources/wire/v1/message-schedule.json");
  }

  static Path upwards(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path p = dir.resolve(relative);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
  }

  /** The first column of the table under "### `headers`" in docs/wire-format.md. */
  static Set<String> documentedHeaders() throws Exception {
    Set<String> names = new TreeSet<>();
    boolean inSection = false;
    Pattern row = Pattern.compile("^\\| `([^`]+)` \\|");
    for (String line : Files.readAllLines(upwards("docs/wire-format.md"))) {
      if (line.startsWith("#")) {
        inSection = line.equals("### `headers`");
      } else if (inSection) {
        Matcher m = row.matcher(line);
        if (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    assertThat(names).as("the headers table of docs/wire-format.md").isNotEmpty();
    return names;
  }

  static Set<String> names(JsonNode n) {
    Set<String> names = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }
}
