package dev.errand.postgres.testing;

import com.sun.security.auth.module.UnixSystem;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server this JVM started: a fresh cluster ({@code initdb}, trust authentication, user
 * {@value #USER}) on 127.0.0.1 and a free port, its data directory, socket and log in a temporary
 * directory, tuned for tests rather than durability: {@code fsync=off} and {@code
 * full_page_writes=off} (what the server wrote survives it, in the operating system's cache, though
 * not a crash of the machine) and {@code synchronous_commit=off} (a commit returns before its
 * write-ahead log is written, so a {@link #kill() killed} server loses the transactions committed
 * in its last half second or so; a test that kills it passes {@code synchronous_commit=on}). {@link
 * #close()} stops it and deletes that directory; a shutdown hook does the same for one left open.
 *
 * <p>{@code initdb} and {@code postgres} refuse to run as root. When this JVM is root (the tests on
 * CI), they run as {@value #UNPRIVILEGED} through {@code setpriv} (else {@code runuser}), which
 * owns the data directory, socket directory and log.
 *
 * <p>Since nobody else uses it, a test may run server-wide commands on it, stop it, {@link
 * #restart()} it and {@link #kill()} it. Thread-safe.
 */
public final class PostgresServerProcess implements AutoCloseable {

  static final String HOST = "127.0.0.1";

  /** The superuser {@code initdb} creates, who connects without a password. */
  public static final String USER = "postgres";

  /** The database the tests use, which {@code initdb} creates. */
  public static final String DATABASE = "postgres";

  /** Who runs the server when this JVM is root. */
  static final String UNPRIVILEGED = "nobody";

  private static final long START_TIMEOUT_MS = 60_000;
  private static final long STOP_TIMEOUT_MS = 30_000;
  private static final int PORT_ATTEMPTS = 5;
  private static final int LOG_TAIL_CHARS = 4_000;
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private final PostgresBinary binary;
  private final int port;
  private final Path dir;
  private final Path data;
  private final Path log;
  private final List<String> runAs;
  private final List<String> settings;
  private final Thread hook;
  private Process process; // null while stopped
  private ProcessHandle postmaster; // null while stopped
  private boolean closed;

  private PostgresServerProcess(
      PostgresBinary binary,
      int port,
      Path dir,
      List<String> runAs,
      List<String> settings,
      Process process) {
    this.binary = binary;
    this.port = port;
    this.dir = dir;
    this.data = dir.resolve("data");
    this.log = dir.resolve("postgres.log");
    this.runAs = runAs;
    this.settings = settings;
    this.process = process;
    this.postmaster = postmasterOf(data, process);
    this.hook = new Thread(this::closeNow, "postgres-" + port + "-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Creates a cluster with {@code binary}, starts it on a free port and returns once it accepts
   * connections.
   *
   * @param settings server settings ({@code name=value}) over the test ones above, kept across
   *     {@link #restart()}
   * @throws IllegalStateException if it does not start (the tail of its log is in the message)
   */
  public static PostgresServerProcess start(PostgresBinary binary, String... settings) {
    for (String setting : settings) {
      if (!setting.matches("[a-z_.]+=.*")) {
        throw new IllegalArgumentException("not a setting (name=value): " + setting);
      }
    }
    List<String> runAs = runAs();
    Path dir = createDirectories(runAs);
    try {
      initdb(binary, dir, runAs);
      IllegalStateException last = null;
      // A port found free may be taken by another process before the server binds it; try another.
      for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
        int port = freePort();
        try {
          Process process = launch(binary, dir, port, runAs, List.of(settings));
          return new PostgresServerProcess(binary, port, dir, runAs, List.of(settings), process);
        } catch (PortTakenException e) {
          last = e;
        }
      }
      throw last;
    } catch (RuntimeException e) {
      deleteRecursively(dir);
      throw e;
    }
  }

  /** The programs this server runs. */
  public PostgresBinary binary() {
    return binary;
  }

  /** The port it listens on, on 127.0.0.1; the same after a {@link #restart()}. */
  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:port}, as the backend's messages name a server. */
  public String address() {
    return HOST + ":" + port;
  }

  /** The JDBC URL of its database: {@code jdbc:postgresql://127.0.0.1:port/postgres?user=...}. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + address() + "/" + DATABASE + "?user=" + USER;
  }

  /**
   * The Errand backend URL of its database with {@code schema}: {@code
   * postgresql://postgres@127.0.0.1:port/postgres?schema=...}.
   */
  public String url(String schema) {
    return "postgresql://" + USER + "@" + address() + "/" + DATABASE + "?schema=" + schema;
  }

  /** Its data directory, kept across {@link #stop()}, {@link #kill()} and {@link #restart()}. */
  public Path dataDirectory() {
    return data;
  }

  /** Its log: {@code initdb}'s and every start's output. */
  public Path logFile() {
    return log;
  }

  /** Whether the server is running (neither stopped nor killed). */
  public synchronized boolean isRunning() {
    return postmaster != null && postmaster.isAlive();
  }

  /**
   * Stops the server with a fast shutdown (SIGINT: open transactions are rolled back, clients are
   * disconnected, and what is committed is kept) and waits until it exits. The data directory stays
   * for a {@link #restart()}. Does nothing if it is not running.
   */
  public synchronized void stop() {
    if (postmaster == null) {
      return;
    }
    if (postmaster.isAlive()) {
      signal(postmaster, "INT");
      if (!awaitExit(List.of(postmaster), STOP_TIMEOUT_MS)) {
        killAll();
      }
    }
    awaitExit(process);
    process = null;
    postmaster = null;
  }

  /**
   * Kills the server as a crash would: SIGKILL to the postmaster and every process it started, no
   * shutdown checkpoint; clients lose their connections. A {@link #restart()} recovers from its
   * write-ahead log every transaction committed before, if the server runs with {@code
   * synchronous_commit=on}: with the default here, {@code off}, those of the last half second or so
   * may be lost. Does nothing if it is not running.
   */
  public synchronized void kill() {
    if (postmaster == null) {
      return;
    }
    killAll();
    process = null;
    postmaster = null;
  }

  /**
   * Stops the server (fast shutdown), unless it was stopped or killed, and starts it again on the
   * same port and data directory; returns once it accepts connections.
   *
   * @throws IllegalStateException if it does not start again (e.g. another process took its port
   *     meanwhile; the tail of its log is in the message)
   */
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
    stop();
    process = launch(binary, dir, port, runAs, settings);
    postmaster = postmasterOf(data, process);
  }

  /** Stops the server (fast shutdown) and deletes its directory. Idempotent. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or about to: it stops the server.
    }
    closeNow();
  }

  private synchronized void closeNow() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stop();
    } finally {
      deleteRecursively(dir);
    }
  }

  @Override
  public String toString() {
    return binary + " on " + address();
  }

  /** SIGKILLs the postmaster and its children at once, and waits for all of them to exit. */
  private void killAll() {
    List<ProcessHandle> all = new ArrayList<>();
    all.add(postmaster);
    // Taken before the postmaster dies: its children then belong to init, no longer found here.
    postmaster.descendants().forEach(all::add);
    all.forEach(ProcessHandle::destroyForcibly);
    // A child still alive would keep the shared memory a restart needs.
    awaitExit(all, STOP_TIMEOUT_MS);
    // Reaps the postmaster, or lets runuser reap it and exit: until then it is a zombie, which
    // postgres takes for a server still running in the data directory, and would not start.
    awaitExit(process);
  }

  // Starting.

  /**
   * The command prefix that runs a program as {@value #UNPRIVILEGED} when this JVM is root (which
   * initdb and postgres refuse), else none.
   */
  private static List<String> runAs() {
    if (new UnixSystem().getUid() != 0) {
      return List.of();
    }
    Optional<Path> setpriv = onPath("setpriv");
    if (setpriv.isPresent()) {
      String uid = idOf("-u");
      String gid = idOf("-g");
      return List.of(
          setpriv.get().toString(), "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--");
    }
    Optional<Path> runuser = onPath("runuser");
    if (runuser.isPresent()) {
      return List.of(runuser.get().toString(), "-u", UNPRIVILEGED, "--");
    }
    throw new IllegalStateException(
        "the tests run as root, where PostgreSQL does not run, and neither setpriv nor runuser"
            + " (util-linux) is here to run it as "
            + UNPRIVILEGED
            + ": install util-linux, run the tests as another user, or point them at a running"
            + " server with "
            + TestPostgres.ENV);
  }

  /** {@code id -u nobody} or {@code id -g nobody}. */
  private static String idOf(String which) {
    try {
      Process p = new ProcessBuilder("id", which, UNPRIVILEGED).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 && out.matches("\\d+")) {
        return out;
      }
      throw new IllegalStateException("id " + which + " " + UNPRIVILEGED + " failed: " + out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run id " + which + " " + UNPRIVILEGED, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * {@code ${java.io.tmpdir}/errand-pg-<random>} with an empty log and a socket directory, owned by
   * whoever runs the server.
   */
  private static Path createDirectories(List<String> runAs) {
    Path dir;
    try {
      dir =
          Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "errand-pg-")
              .toAbsolutePath()
              .normalize();
      // Enterable by the server's user when that is another one; listing it is not needed.
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
      Path data = Files.createDirectory(dir.resolve("data"));
      Path socket = Files.createDirectory(dir.resolve("socket"));
      Path log = Files.createFile(dir.resolve("postgres.log"));
      if (!runAs.isEmpty()) {
        checkEnterable(dir);
        int uid = Integer.parseInt(idOf("-u"));
        int gid = Integer.parseInt(idOf("-g"));
        for (Path p : List.of(data, socket, log)) {
          Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
          Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        }
      }
      Files.setPosixFilePermissions(data, OWNER_ONLY);
      Files.setPosixFilePermissions(socket, OWNER_ONLY);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the test server's directory", e);
    }
  }

  /**
   * Fails early, and saying why, when {@value #UNPRIVILEGED} cannot reach {@code dir}
   * (java.io.tmpdir under root's home, say), rather than with initdb's "Permission denied".
   */
  private static void checkEnterable(Path dir) throws IOException {
    for (Path p = dir.toRealPath(); p != null; p = p.getParent()) {
      if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        throw new IllegalStateException(
            "the test server runs as "
                + UNPRIVILEGED
                + ", who cannot enter "
                + p
                + " (java.io.tmpdir is "
                + System.getProperty("java.io.tmpdir")
                + "): point java.io.tmpdir at a directory everyone can enter, such as /tmp");
      }
    }
  }

  private static void initdb(PostgresBinary binary, Path dir, List<String> runAs) {
    Path log = dir.resolve("postgres.log");
    List<String> command = new ArrayList<>(runAs);
    command.addAll(
        List.of(
            binary.initdb().toString(),
            "-A",
            "trust",
            "-U",
            USER,
            "-E",
            "UTF8",
            "--no-locale",
            // The cluster is thrown away after the tests: no need to wait for the disk.
            "--no-sync",
            "-D",
            dir.resolve("data").toString()));
    Process p;
    try {
      p =
          processBuilder(command, dir)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + binary.initdb() + ": " + e.getMessage(), e);
    }
    try {
      if (!p.waitFor(START_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            binary.initdb() + " did not finish in " + START_TIMEOUT_MS + " ms: " + tail(log));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + binary.initdb(), e);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          binary.initdb() + " failed (exit " + p.exitValue() + "): " + tail(log));
    }
  }

  /** Starts the server on {@code port} and returns once it accepts connections. */
  private static Process launch(
      PostgresBinary binary, Path dir, int port, List<String> runAs, List<String> settings) {
    Path data = dir.resolve("data");
    Path log = dir.resolve("postgres.log");
    List<String> command = new ArrayList<>(runAs);
    command.addAll(
        List.of(
            binary.postgres().toString(),
            "-D",
            data.toString(),
            "-p",
            Integer.toString(port),
            "-k",
            dir.resolve("socket").toString(),
            "-c",
            "listen_addresses=" + HOST,
            // For tests only: durability the tests do not need, for speed.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            // Many test backends, each with a pool, may share the server.
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB"));
    for (String setting : settings) {
      // After the test ones: the last of a name wins.
      command.add("-c");
      command.add(setting);
    }
    long logStart = size(log);
    Process process;
    try {
      process =
          processBuilder(command, dir)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start " + binary.postgres() + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    String url = "jdbc:postgresql://" + HOST + ":" + port + "/" + DATABASE + "?user=" + USER;
    while (true) {
      if (process.isAlive() && isOurs(url, data)) {
        return process;
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        boolean timedOut = process.isAlive();
        process.destroyForcibly();
        awaitExit(process);
        String since = read(log, logStart);
        String message =
            binary
                + " did not start on "
                + HOST
                + ":"
                + port
                + (timedOut ? " in " + START_TIMEOUT_MS + " ms" : "")
                + ": "
                + tail(since);
        if (since.contains("Address already in use")) {
          throw new PortTakenException(message);
        }
        throw new IllegalStateException(message);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting " + binary, e);
      }
    }
  }

  /**
   * Whether the server at {@code url} accepts connections and is the one of {@code data}: another
   * server that took the port first could accept them too.
   */
  private static boolean isOurs(String url, Path data) {
    try (Connection c = DriverManager.getConnection(url + "&connectTimeout=2&socketTimeout=10");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select current_setting('data_directory')")) {
      return rs.next() && Path.of(rs.getString(1)).equals(data);
    } catch (SQLException e) {
      // Not yet listening, or "the database system is starting up".
      return false;
    }
  }

  private static ProcessBuilder processBuilder(List<String> command, Path dir) {
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    // The log's messages in English, which start() looks for; and none of the caller's PG*
    // settings (PGDATA, PGPORT, PGOPTIONS...) for the programs to pick up.
    env.put("LC_ALL", "C");
    env.keySet().removeIf(name -> name.startsWith("PG"));
    return builder;
  }

  /** The postmaster: {@code process} itself, or its child when {@code runuser} forked it. */
  private static ProcessHandle postmasterOf(Path data, Process process) {
    try {
      String first =
          Files.readAllLines(data.resolve("postmaster.pid"), StandardCharsets.UTF_8).get(0);
      return ProcessHandle.of(Long.parseLong(first.strip())).orElse(process.toHandle());
    } catch (IOException | RuntimeException e) {
      return process.toHandle();
    }
  }

  private static Optional<Path> onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/bin:/usr/sbin:/sbin";
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
      if (!dir.isEmpty() && Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  // Stopping.

  /** Sends SIGINT, SIGTERM... to {@code p} (which Java cannot but for SIGTERM and SIGKILL). */
  private static void signal(ProcessHandle p, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-s", signal, Long.toString(p.pid()))
              .redirectErrorStream(true)
              .start();
      kill.getInputStream().readAllBytes();
      if (kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0) {
        return;
      }
    } catch (IOException e) {
      // No kill program: fall back below.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // SIGTERM is a smart shutdown, which waits for clients to disconnect; STOP_TIMEOUT_MS bounds
    // it.
    p.destroy();
  }

  /**
   * Waits until every one of {@code processes} has exited; false if one has not after {@code
   * timeoutMs}. Polled: ProcessHandle's own wait, for a process not this JVM's child, polls every
   * 300 ms or more.
   */
  private static boolean awaitExit(List<ProcessHandle> processes, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (!processes.stream().allMatch(PostgresServerProcess::exited)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code p} has exited. A zombie has: a killed postmaster's children belong to PID 1,
   * which in a container may never reap them, and ProcessHandle counts a zombie as alive.
   */
  private static boolean exited(ProcessHandle p) {
    if (!p.isAlive()) {
      return true;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      int end = stat.lastIndexOf(')');
      return end >= 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
    } catch (IOException | RuntimeException e) {
      return !p.isAlive();
    }
  }

  private static void awaitExit(Process process) {
    if (process == null) {
      return;
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // Files.

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on " + HOST, e);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  /** {@code file} from byte {@code from} on. */
  private static String read(Path file, long from) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      int start = (int) Math.min(from, bytes.length);
      return new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static String tail(Path log) {
    return tail(read(log, 0));
  }

  /** The end of a log, which says why a server did not start. */
  private static String tail(String text) {
    String t = text.strip();
    if (t.length() > LOG_TAIL_CHARS) {
      t = "..." + t.substring(t.length() - LOG_TAIL_CHARS);
    }
    return t.isEmpty() ? "(nothing logged)" : "\n" + t;
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
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
