package dev.errand.cli.internal.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** What {@link Chaos} needs from the machine: processes, ports, servers, mounts, libfaketime. */
final class ChaosSupport {

  private ChaosSupport() {}

  /** A Redis server of the harness's own, with an append-only file fsynced on every write. */
  static final class OwnRedis {
    private final String binary;
    private final int port;
    private final Path dir;
    private Process process;

    OwnRedis(String binary, int port, Path dir) {
      this.binary = binary;
      this.port = port;
      this.dir = dir;
    }

    synchronized void start() {
      try {
        process =
            new ProcessBuilder(
                    binary,
                    "--port",
                    String.valueOf(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    dir.toString(),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.out").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
          try (var s = new java.net.Socket("127.0.0.1", port)) {
            return;
          } catch (IOException notYet) {
            Thread.sleep(50);
          }
        }
        throw new IllegalStateException("redis-server did not start on port " + port);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    synchronized void kill() {
      if (process != null) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * The environment of a process whose clock is {@code offset} off under libfaketime. Its README's
   * advice for JVMs, {@code FAKETIME_DONT_FAKE_MONOTONIC=1}, is not taken: with Debian's 0.9.10 it
   * makes a JVM crawl (seconds per timer tick, so leases are not renewed in time), while the
   * defaults shift the monotonic clock by a constant, which no duration measured with it notices.
   */
  static Map<String, String> fakeTime(Path lib, String offset) {
    Map<String, String> env = new HashMap<>();
    env.put("LD_PRELOAD", lib.toString());
    env.put("FAKETIME", offset);
    return env;
  }

  static boolean isMounted(Path dir) throws IOException {
    return Files.readAllLines(Path.of("/proc/mounts")).stream()
        .anyMatch(l -> l.contains(" " + dir.toAbsolutePath() + " "));
  }

  interface Body {
    void run() throws Exception;
  }

  static Thread background(String name, Body body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (InterruptedException e) {
                // stopped
              } catch (Exception e) {
                e.printStackTrace();
              }
            },
            "chaos-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  static void sleep(long ms) throws InterruptedException {
    Thread.sleep(ms);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static Optional<String> which(String binary) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir, binary);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      p.waitFor(30, TimeUnit.SECONDS);
      return output;
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
