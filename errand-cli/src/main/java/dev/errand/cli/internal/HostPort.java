package dev.errand.cli.internal;

import picocli.CommandLine;

/**
 * An address to serve on, written {@code [HOST:]PORT}: {@code :5555} or {@code 5555} is this
 * machine only (127.0.0.1), {@code 0.0.0.0:5555} every interface.
 */
record HostPort(String host, int port) {

  static final String LOOPBACK = "127.0.0.1";

  /** Parses {@code [HOST:]PORT} for picocli, naming the bad value. */
  static final class Converter implements CommandLine.ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      String v = value.strip();
      int colon = v.lastIndexOf(':');
      String host = colon <= 0 ? LOOPBACK : v.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(colon < 0 ? v : v.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 0 || port > 65535) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not [HOST:]PORT such as :5555 or 0.0.0.0:5555");
      }
      return new HostPort(host, port);
    }
  }
}
