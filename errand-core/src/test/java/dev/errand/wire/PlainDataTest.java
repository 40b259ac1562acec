package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.net.URI;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PlainDataTest {

  enum Kind {
    A,
    B {
      @Override
      public String toString() {
        return "b"; // a constant with a body is a subclass of the enum
      }
    }
  }

  record Everything(
      boolean b,
      char c,
      int i,
      long l,
      double d,
      Integer boxed,
      String s,
      BigDecimal money,
      UUID id,
      URI uri,
      Kind kind,
      DayOfWeek day,
      Instant at,
      LocalDate date,
      LocalTime time,
      LocalDateTime local,
      OffsetDateTime offset,
      ZonedDateTime zoned,
      ZoneId zone,
      Duration duration,
      Period period,
      Year year,
      YearMonth month,
      MonthDay monthDay,
      JsonNode raw,
      byte[] bytes,
      int[] ints,
      List<String> strings,
      Set<Kind> kinds,
      Map<String, List<Instant>> times,
      Map<Kind, Integer> byKind,
      Map<Long, UUID> byNumber,
      Inner inner,
      List<Inner> inners,
      Inner[] innerArray) {}

  record Inner(String name, List<Map<String, Inner>> children) {}

  record Job(String name, Thread worker) {}

  record Nested(String name, List<Job> jobs) {}

  record Loose(Object any, List<?> wild, @SuppressWarnings("rawtypes") List raw, Number n) {}

  record WithOptional(Optional<String> replyTo) {}

  record WithDate(Date when) {}

  record BadKeys(Map<LocalDate, String> byDate) {}

  record Tree(String label, List<Tree> children) {}

  /** A JavaBean: Jackson would write whatever its getters compute. */
  static final class Bean {
    public String getName() {
      return "n";
    }
  }

  static Everything everything() {
    Inner leaf = new Inner("leaf", List.of());
    return new Everything(
        true,
        'x',
        1,
        2L,
        3.5,
        null,
        "s",
        new BigDecimal("9.99"),
        UUID.randomUUID(),
        URI.create("https://example.com"),
        Kind.B,
        DayOfWeek.MONDAY,
        Instant.parse("2026-03-14T09:26:53.589Z"),
        LocalDate.of(2026, 3, 14),
        LocalTime.NOON,
        LocalDateTime.of(2026, 3, 14, 9, 0),
        OffsetDateTime.of(2026, 3, 14, 9, 0, 0, 0, ZoneOffset.ofHours(2)),
        ZonedDateTime.of(2026, 3, 14, 9, 0, 0, 0, ZoneId.of("Europe/Berlin")),
        ZoneOffset.UTC,
        Duration.ofMillis(1500),
        Period.ofDays(3),
        Year.of(2026),
        YearMonth.of(2026, 3),
        MonthDay.of(3, 14),
        Wire.mapper().createObjectNode().put("k", 1),
        new byte[] {1, 2},
        new int[] {3},
        List.of("a"),
        EnumSet.of(Kind.A),
        Map.of("t", List.of(Instant.EPOCH)),
        Map.of(Kind.A, 1),
        Map.of(7L, UUID.randomUUID()),
        new Inner("root", List.of(Map.of("x", leaf))),
        List.of(leaf),
        new Inner[] {leaf, null});
  }

  @Test
  void everyKindOfPlainDataPassesAndTravelsThere() throws Exception {
    Everything e = everything();

    assertThatCode(() -> PlainData.check(e)).doesNotThrowAnyException();
    JsonNode json = Wire.mapper().valueToTree(e);
    Everything back = Wire.mapper().treeToValue(json, Everything.class);
    assertThat(back.zoned().toInstant()).isEqualTo(e.zoned().toInstant());
    assertThat(back.duration()).isEqualTo(e.duration());
    assertThat(back.inner()).isEqualTo(e.inner());
    assertThat(json.get("bytes").asText()).isEqualTo("AQI=");
  }

  @Test
  void scalarsCollectionsAndNullsArePlainData() {
    for (Object ok :
        new Object[] {
          "s",
          42,
          Kind.B,
          List.of(1, "two", List.of(3.0)),
          new ArrayList<>(List.of(new Inner("a", List.of()))),
          Map.of("k", Instant.EPOCH),
          new Object[] {1, null, "x"},
          Wire.mapper().createArrayNode()
        }) {
      assertThatCode(() -> PlainData.check(ok)).as("%s", ok).doesNotThrowAnyException();
    }
    PlainData.check(null);
  }

  @Test
  void aRecordHoldingAThreadIsRefusedNamingTheComponentEvenWhileItIsNull() {
    assertThatThrownBy(() -> PlainData.check(new Job("j", Thread.currentThread())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Job.worker is a java.lang.Thread, which is not plain data;")
        .hasMessageContaining("plain data is records, strings");
    assertThatThrownBy(() -> PlainData.check(new Job("j", null)))
        .hasMessageStartingWith("Job.worker is a java.lang.Thread");
  }

  @Test
  void thePathLeadsToTheOffendingValue() {
    assertThatThrownBy(() -> PlainData.check(new Nested("n", List.of())))
        .hasMessageStartingWith("Nested.jobs[].worker is a java.lang.Thread");

    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("ok", 1);
    meta.put("who", List.of("a", new Bean()));
    assertThatThrownBy(() -> PlainData.check(new Loose(meta, null, null, null)))
        .hasMessageStartingWith(
            "Loose.any[\"who\"][1] is a " + Bean.class.getName() + ", which is not plain data");
    assertThatThrownBy(() -> PlainData.check(new ArrayList<>(List.of("a", Thread.currentThread()))))
        .hasMessageStartingWith("ArrayList[1] is a java.lang.Thread");
  }

  @Test
  void looselyDeclaredComponentsAreCheckedByTheirValues() {
    assertThatCode(() -> PlainData.check(new Loose(Map.of("k", List.of(1)), List.of("x"), null, 3)))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> PlainData.check(new Loose(null, List.of(new Date()), null, null)))
        .hasMessageStartingWith("Loose.wild[0] is a java.util.Date");
    assertThatThrownBy(() -> PlainData.check(new Loose(null, null, List.of(new Bean()), null)))
        .hasMessageStartingWith("Loose.raw[0] is a " + Bean.class.getName());
  }

  @Test
  void beansOptionalsDatesAndOddMapKeysAreRefused() {
    assertThatThrownBy(() -> PlainData.check(new Bean()))
        .hasMessageStartingWith("it is a " + Bean.class.getName() + ", which is not plain data");
    assertThatThrownBy(() -> PlainData.check(new WithOptional(Optional.of("a"))))
        .hasMessageStartingWith("WithOptional.replyTo is a java.util.Optional")
        .hasMessageContaining("use the value itself, or null for none");
    assertThatThrownBy(() -> PlainData.check(new WithDate(new Date())))
        .hasMessageStartingWith("WithDate.when is a java.util.Date");
    assertThatThrownBy(() -> PlainData.check(new BadKeys(Map.of())))
        .hasMessageStartingWith("BadKeys.byDate is a map with keys of type java.time.LocalDate");
    assertThatThrownBy(() -> PlainData.check(Map.of(new Object(), 1)))
        .hasMessageContaining("map keys must be strings, enums, integers or UUIDs");
    assertThatThrownBy(() -> PlainData.check((Runnable) () -> {}))
        .hasMessageContaining("which is not plain data");
  }

  @Test
  void aRecordThatContainsItselfIsCheckedAllTheWayDown() {
    Tree ok = new Tree("a", List.of(new Tree("b", List.of())));
    assertThatCode(() -> PlainData.check(ok)).doesNotThrowAnyException();
    assertThat(PlainData.isAlwaysPlain(Tree.class)).isFalse(); // its children are walked
  }

  @Test
  void theVerdictIsCachedPerClass() {
    assertThat(PlainData.isAlwaysPlain(Everything.class)).isFalse(); // holds Inner, walked
    assertThat(PlainData.isAlwaysPlain(Inner.class)).isFalse(); // contains itself
    assertThat(PlainData.isAlwaysPlain(Kind.class)).isTrue();
    record Flat(String a, int b, List<String> c, Map<String, Instant> d) {}
    assertThat(PlainData.isAlwaysPlain(Flat.class)).as("nothing to walk per call").isTrue();
  }
}
