package dev.errand.redis.internal;

import dev.errand.TaskStatus;
import dev.errand.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How values carry their expiry: {@code <expiresAt ms>\n<json>}. Redis expires keys by its own
 * time; the backend also checks the expiry against its clock, so a result is gone exactly when the
 * backend's clock says so (and tests can move that clock).
 */
public final class Codec {

  private Codec() {}

  /** {@code expiresAt} then the bytes. */
  public static byte[] withExpiry(long expiresAtMillis, byte[] json) {
    byte[] head = (expiresAtMillis + "\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = Arrays.copyOf(head, head.length + json.length);
    System.arraycopy(json, 0, out, head.length, json.length);
    return out;
  }

  /** The expiry of a value written by {@link #withExpiry}. */
  public static long expiresAt(byte[] value) {
    long n = 0;
    for (byte b : value) {
      if (b == '\n') {
        return n;
      }
      n = n * 10 + (b - '0');
    }
    throw new IllegalArgumentException("no expiry in value");
  }

  /** The bytes after the expiry. */
  public static byte[] payload(byte[] value) {
    return Arrays.copyOfRange(value, afterExpiry(value), value.length);
  }

  /** Decodes a stored status (with its expiry). */
  public static TaskStatus decodeResult(byte[] value) {
    int at = afterExpiry(value);
    return Wire.decodeStatus(value, at, value.length - at); // no copy of the JSON
  }

  /** Decodes the outcome of a stored status (see {@link Wire#decodeOutcome}). */
  public static TaskStatus decodeOutcome(byte[] value) {
    int at = afterExpiry(value);
    return Wire.decodeOutcome(value, at, value.length - at);
  }

  private static int afterExpiry(byte[] value) {
    for (int i = 0; i < value.length; i++) {
      if (value[i] == '\n') {
        return i + 1;
      }
    }
    throw new IllegalArgumentException("no expiry in value");
  }
}
