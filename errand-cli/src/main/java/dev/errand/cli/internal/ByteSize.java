package dev.errand.cli.internal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses sizes such as {@code 512m}, {@code 2g}, {@code 1.5GiB}, {@code 800000k} or bytes. */
final class ByteSize implements CommandLine.ITypeConverter<Long> {

  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

  @Override
  public Long convert(String value) {
    return parse(value);
  }

  /**
   * The size in bytes; units are powers of 1024 (k, m, g, with or without {@code b}/{@code ib}).
   *
   * @throws CommandLine.TypeConversionException naming the value, for anything else or zero
   */
  static long parse(String value) {
    Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException(
          "'" + value + "' is not a size (use 512m, 2g, 1.5GiB or a number of bytes)");
    }
    String unit = m.group(2) == null ? "b" : m.group(2).substring(0, 1);
    long scale =
        switch (unit) {
          case "k" -> 1L << 10;
          case "m" -> 1L << 20;
          case "g" -> 1L << 30;
          default -> 1;
        };
    double bytes = Double.parseDouble(m.group(1)) * scale;
    if (bytes < 1 || bytes > Long.MAX_VALUE / 2) {
      throw new CommandLine.TypeConversionException(
          "'" + value + "' is not a usable size (it must be at least 1 byte)");
    }
    return (long) bytes;
  }
}
