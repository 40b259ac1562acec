package dev.errand.redis.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} this JVM started: on 127.0.0.1 and a free port, in memory only ({@code
 * --save '' --appendonly no}), its working directory and log in a temporary directory. {@link
 * #close()} stops it and deletes that directory; a shutdown hook does the same for one left open.
 *
 * <p>Since nobody else uses it, a test may run server-wide commands on it ({@code CLIENT PAUSE},
 * {@code SCRIPT FLUSH}, {@code FLUSHALL}). Thread-safe.
 */
public final class RedisServerProcess implements AutoCloseable {

  static final String HOST = "127.0.0.1";
  private static final long START_TIMEOUT_MS = 10_000;
  private static final int PORT_ATTEMPTS = 5;

  private final RedisBinary binary;
  private final int port;
  private final Process process;
  private final Path dir;
  private final Thread hook;

  private RedisServerProcess(RedisBinary binary, int port, Process process, Path dir) {
    this.binary = binary;
    this.port = port;
    this.process = process;
    this.dir = dir;
    this.hook = new Thread(this::stop, "redis-server-" + port + "-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts {@code binary} on a free port and returns once it accepts connections.
   *
   * @throws IllegalStateException if it does not start (its log is in the message)
   */
  public static RedisServerProcess start(RedisBinary binary) {
    return start(binary, java.util.List.of());
  }

  /**
   * {@link #start(RedisBinary)} with more {@code redis-server} arguments ({@code --cluster-enabled
   * yes}, say). A cluster node also needs its bus port, the port + 10000, free.
   */
  public static RedisServerProcess start(RedisBinary binary, java.util.List<String> extra) {
    return start(binary, null, extra);
  }

  /**
   * {@link #start(RedisBinary, java.util.List)} with a configuration file of {@code config} as the
   * first argument, written to the server's directory (a Sentinel needs one, and rewrites it).
   */
  public static RedisServerProcess start(
      RedisBinary binary, String config, java.util.List<String> extra) {
    IllegalStateException last = null;
    // A port found free may be taken by another process before the server binds it; try another.
    for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      try {
        return startOn(binary, freePort(), config, extra);
      } catch (PortTakenException e) {
        last = e;
      }
    }
    throw last;
  }

  private static RedisServerProcess startOn(
      RedisBinary binary, int port, String config, java.util.List<String> extra) {
    Path dir;
    try {
      dir = Files.createTempDirectory("errand-test-redis-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path log = dir.resolve("redis.log");
    Process process;
    java.util.List<String> cmd = new java.util.ArrayList<>();
    try {
      cmd.add(binary.path().toString());
      if (config != null) {
        Path file = dir.resolve("redis.conf");
        Files.writeString(file, config, StandardCharsets.UTF_8);
        cmd.add(file.toString());
      }
      cmd.addAll(
          java.util.List.of(
              "--port",
              Integer.toString(port),
              "--bind",
              HOST,
              "--save",
              "",
              "--appendonly",
              "no",
              "--daemonize",
              "no",
              "--dir",
              dir.toString(),
              "--logfile",
              log.toString()));
      cmd.addAll(extra);
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("redis.out").toFile())
              .start();
    } catch (IOException e) {
      deleteRecursively(dir);
      throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    // Ready once its own log says so: a connection alone could reach another server that took
    // the port first.
    while (true) {
      String text = read(log) + read(dir.resolve("redis.out"));
      // (a Sentinel says "Sentinel ID is" instead)
      if ((text.contains("Ready to accept connections") || text.contains("Sentinel ID is"))
          && process.isAlive()) {
        return new RedisServerProcess(binary, port, process, dir);
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        waitFor(process);
        deleteRecursively(dir);
        String message = binary + " did not start on " + HOST + ":" + port + ": " + text.strip();
        if (text.contains("Address already in use")) {
          throw new PortTakenException(message);
        }
        throw new IllegalStateException(message);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting " + binary, e);
      }
    }
  }

  /** The executable this server runs. */
  public RedisBinary binary() {
    return binary;
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** Kills it at once (SIGKILL), as a crash would; {@link #close()} still cleans up. */
  public void kill() {
    process.destroyForcibly();
    waitFor(process);
  }

  /**
   * Freezes the server ({@code SIGSTOP}: it holds its connections but answers nothing, as a stalled
   * or partitioned one would) or thaws it ({@code SIGCONT}).
   */
  public void freeze(boolean frozen) {
    try {
      Process kill =
          new ProcessBuilder("kill", frozen ? "-STOP" : "-CONT", Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("cannot signal " + this + ": " + out.strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling " + this, e);
    }
  }

  /** {@code 127.0.0.1:port}, as the backend's messages name a server. */
  public String address() {
    return HOST + ":" + port;
  }

  /** Database 0 of this server: {@code redis://127.0.0.1:port/0}. */
  public String url() {
    return "redis://" + address() + "/0";
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and deletes its directory. Idempotent. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or about to: it stops the server.
    }
    stop();
  }

  private synchronized void stop() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          waitFor(process);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    deleteRecursively(dir);
  }

  @Override
  public String toString() {
    return binary + " on " + address();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      if (s.getLocalPort() + 10_000 > 65_535) {
        return freePort(); // a cluster node's bus port would not exist
      }
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on " + HOST, e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static void waitFor(Process process) {
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }

  private static final class PortTakenException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PortTakenException(String message) {
      super(message);
    }
  }
}
