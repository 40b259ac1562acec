package dev.errand.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.datatype.jsr310.deser.InstantDeserializer;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/**
 * Writes and reads instants as {@link Instant#toString()} does (ISO-8601 in UTC, the fraction in
 * groups of three digits), without going through {@code DateTimeFormatter}: every status and event
 * carries several instants, and the formatter showed up in the worker's profile. Years outside
 * 0000-9999, and any text this fast path does not recognise, fall back to the JDK, so the output
 * and what is accepted are exactly the JDK's. Thread-safe (stateless).
 */
final class InstantFormat {

  private static final long SECONDS_PER_DAY = 86_400;
  private static final long YEAR_0 = -62_167_219_200L; // 0000-01-01T00:00:00Z
  private static final long YEAR_10000 = 253_402_300_800L; // 10000-01-01T00:00:00Z

  private InstantFormat() {}

  /** {@code t.toString()}, faster. */
  static String format(Instant t) {
    long seconds = t.getEpochSecond();
    if (seconds < YEAR_0 || seconds >= YEAR_10000) {
      return t.toString();
    }
    long day = Math.floorDiv(seconds, SECONDS_PER_DAY);
    int secondOfDay = (int) Math.floorMod(seconds, SECONDS_PER_DAY);
    LocalDate date = LocalDate.ofEpochDay(day);
    int year = date.getYear();
    int nano = t.getNano();
    char[] c = new char[30];
    digits(c, 0, year, 4);
    c[4] = '-';
    digits(c, 5, date.getMonthValue(), 2);
    c[7] = '-';
    digits(c, 8, date.getDayOfMonth(), 2);
    c[10] = 'T';
    digits(c, 11, secondOfDay / 3600, 2);
    c[13] = ':';
    digits(c, 14, secondOfDay / 60 % 60, 2);
    c[16] = ':';
    digits(c, 17, secondOfDay % 60, 2);
    int n = 19;
    if (nano > 0) {
      c[n++] = '.';
      if (nano % 1_000_000 == 0) {
        digits(c, n, nano / 1_000_000, 3);
        n += 3;
      } else if (nano % 1_000 == 0) {
        digits(c, n, nano / 1_000, 6);
        n += 6;
      } else {
        digits(c, n, nano, 9);
        n += 9;
      }
    }
    c[n++] = 'Z';
    return new String(c, 0, n);
  }

  /** {@code Instant.parse(s)}, faster for the form {@link #format} writes. */
  static Instant parse(String s) {
    int len = s.length();
    if (len >= 20
        && len <= 30
        && s.charAt(4) == '-'
        && s.charAt(7) == '-'
        && s.charAt(10) == 'T'
        && s.charAt(13) == ':'
        && s.charAt(16) == ':'
        && s.charAt(len - 1) == 'Z') {
      int year = number(s, 0, 4);
      int month = number(s, 5, 2);
      int day = number(s, 8, 2);
      int hour = number(s, 11, 2);
      int minute = number(s, 14, 2);
      int second = number(s, 17, 2);
      int nano = 0;
      boolean ok = year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour < 24;
      ok = ok && minute >= 0 && minute < 60 && second >= 0 && second < 60;
      if (ok && len > 20) {
        int fraction = len - 21; // between '.' and 'Z'
        ok = s.charAt(19) == '.' && fraction >= 1 && fraction <= 9;
        if (ok) {
          nano = number(s, 20, fraction);
          ok = nano >= 0;
          for (int i = fraction; i < 9; i++) {
            nano *= 10;
          }
        }
      }
      if (ok && day <= LocalDate.of(year, month, 1).lengthOfMonth()) {
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(
            epochDay * SECONDS_PER_DAY + hour * 3600L + minute * 60L + second, nano);
      }
    }
    return Instant.parse(s); // anything else: the JDK decides, and reports errors its way
  }

  private static void digits(char[] c, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      c[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /** The decimal number in {@code s[at, at + width)}, or -1 if a character is not a digit. */
  private static int number(String s, int at, int width) {
    int n = 0;
    for (int i = at; i < at + width; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      n = n * 10 + (ch - '0');
    }
    return n;
  }

  /** Jackson serializer using {@link #format}. */
  static final class Serializer extends JsonSerializer<Instant> {
    @Override
    public void serialize(Instant value, JsonGenerator gen, SerializerProvider serializers)
        throws IOException {
      gen.writeString(format(value));
    }
  }

  /** Jackson deserializer using {@link #parse}; other tokens go to the JSR-310 module's. */
  static final class Deserializer extends JsonDeserializer<Instant> {
    @Override
    public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() == JsonToken.VALUE_STRING) {
        String text = p.getText().trim();
        try {
          return parse(text);
        } catch (DateTimeParseException e) {
          return (Instant) ctxt.handleWeirdStringValue(Instant.class, text, e.getMessage());
        }
      }
      return InstantDeserializer.INSTANT.deserialize(p, ctxt);
    }
  }
}
