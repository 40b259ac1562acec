package dev.errand.internal;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Task ids: UUID version 7 (RFC 9562), time-ordered so that ids sort by creation time and index
 * well in SQL stores, and random enough to be unique across processes.
 */
public final class Ids {

  private static final SecureRandom SEED = new SecureRandom();

  private Ids() {}

  /** A new UUIDv7 string. */
  public static String newId() {
    return newId(System.currentTimeMillis());
  }

  /** A new UUIDv7 string for the given Unix time in milliseconds. */
  public static String newId(long unixMillis) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long randA = r.nextLong() & 0xFFFL;
    long randB = r.nextLong() ^ SeedHolder.MIX;
    long msb = (unixMillis & 0xFFFF_FFFF_FFFFL) << 16 | 0x7000L | randA;
    long lsb = (randB & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }

  // ThreadLocalRandom is seeded per JVM start; mixing in a SecureRandom value keeps two JVMs
  // started in the same instant from producing related sequences.
  private static final class SeedHolder {
    static final long MIX = SEED.nextLong();
  }
}
