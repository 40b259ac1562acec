package dev.errand.worker.internal;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** Host facts for worker names and heartbeats. */
public final class Hosts {

  private static final AtomicInteger WORKERS = new AtomicInteger();
  private static volatile String hostName;

  private Hosts() {}

  /** This machine's host name; falls back to {@code $HOSTNAME}, then {@code localhost}. */
  public static String hostName() {
    String h = hostName;
    if (h == null) {
      try {
        h = InetAddress.getLocalHost().getHostName();
      } catch (Exception e) {
        h = System.getenv().getOrDefault("HOSTNAME", "localhost");
      }
      hostName = h;
    }
    return h;
  }

  /** A default worker name: {@code errand@host:pid}, with {@code :n} for the second on. */
  public static String defaultWorkerName() {
    int n = WORKERS.incrementAndGet();
    String base = "errand@" + hostName() + ":" + ProcessHandle.current().pid();
    return n == 1 ? base : base + ":" + n;
  }
}
