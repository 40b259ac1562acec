package dev.errand.sqlite.internal;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells waiting claims at once when another process commits to the database: the file system
 * reports every write to the WAL (inotify on Linux, through {@link WatchService}), and {@code
 * PRAGMA data_version} then says whether it was another connection's commit rather than this
 * process's own. Without it a consumer in another process than its producers only sees new work at
 * its next poll (up to {@link SqliteBroker#MAX_POLL} later), which was the latency of the
 * deployment shape, producer and worker in separate processes.
 *
 * <p>Where the file system reports no changes (a network file system) or the platform's watch
 * service only polls, the consumers' own polling still finds the work. One daemon thread, started
 * with the first waiting claim (a producer starts none); {@link #close} stops it. Thread-safe.
 */
final class CommitWatch implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CommitWatch.class);

  /**
   * When a write to the WAL was seen but no other connection's commit yet, it is looked for again
   * after these pauses (ms, one after the other) unless the file reports something new meanwhile: a
   * committing process writes its frames (which the file system reports) a moment before it
   * publishes the commit in the WAL's index (which {@code data_version} reads), and nothing is
   * reported after that.
   */
  private static final long[] RECHECK_MS = {1, 2, 5};

  private final Db db;
  private final Path file;
  private final Runnable onChange;
  private final Object lock = new Object();
  private WatchService service; // guarded by lock
  private WatchKey key; // the directory's registration while a claim waits, guarded by lock
  private boolean closed; // guarded by lock
  private final java.util.concurrent.atomic.AtomicInteger waiting =
      new java.util.concurrent.atomic.AtomicInteger();
  private long dataVersion = -1; // guarded by itself

  /**
   * @param db this process's connection; its file's directory is watched for writes to the file and
   *     its WAL
   * @param onChange called (on the watch thread) when another connection committed
   */
  CommitWatch(Db db, Runnable onChange) {
    this.db = db;
    this.file = db.file().toAbsolutePath();
    this.onChange = onChange;
  }

  /**
   * A claim starts waiting: until {@link #stopWaiting}, the file is watched and its writes looked
   * at. While no claim waits (a busy worker, or one that only sends) it is not watched at all:
   * every write would wake two threads, and each look takes the connection.
   *
   * @return whether another connection committed since the last look: the claim looks again
   */
  boolean startWaiting() {
    synchronized (lock) {
      if (waiting.getAndIncrement() == 0 && service != null && key == null) {
        try {
          key =
              file.getParent()
                  .register(
                      service,
                      StandardWatchEventKinds.ENTRY_MODIFY,
                      StandardWatchEventKinds.ENTRY_CREATE);
        } catch (IOException | RuntimeException e) {
          log.debug("cannot watch {}: {}; consumers poll for it", file, e.toString());
        }
      }
    }
    return changed();
  }

  /** The claim that called {@link #startWaiting} stopped waiting. */
  void stopWaiting() {
    synchronized (lock) {
      if (waiting.decrementAndGet() == 0 && key != null) {
        key.cancel();
        key = null;
      }
    }
  }

  /** Starts watching unless it already does (or was closed, or cannot on this platform). */
  void start() {
    WatchService ws;
    synchronized (lock) {
      if (service != null || closed) {
        return;
      }
      try {
        ws = FileSystems.getDefault().newWatchService();
      } catch (IOException | UnsupportedOperationException e) {
        log.debug(
            "cannot watch {} for other processes' commits ({}); consumers poll for them",
            file,
            e.toString());
        closed = true;
        return;
      }
      service = ws;
    }
    Thread t = new Thread(() -> loop(ws), "errand-sqlite-watch");
    t.setDaemon(true);
    t.start();
  }

  private void loop(WatchService ws) {
    String name = file.getFileName().toString();
    String wal = name + "-wal";
    try {
      WatchKey key = ws.take();
      while (true) {
        if (!concernsTheFile(key, name, wal) || waiting.get() == 0) {
          key = ws.take();
          continue;
        }
        if (changed()) {
          onChange.run();
          key = ws.take();
          continue;
        }
        // Perhaps a commit still being published: look again shortly, unless the file speaks.
        key = null;
        for (int i = 0; i < RECHECK_MS.length && key == null && waiting.get() > 0; i++) {
          key = ws.poll(RECHECK_MS[i], TimeUnit.MILLISECONDS);
          if (key == null && changed()) {
            onChange.run();
            break;
          }
        }
        if (key == null) {
          key = ws.take();
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed
    }
  }

  /** Whether {@code key}'s events concern the database or its WAL; resets the key. */
  private static boolean concernsTheFile(WatchKey key, String name, String wal) {
    boolean ours = false;
    for (WatchEvent<?> e : key.pollEvents()) {
      Object context = e.context();
      if (e.kind() == StandardWatchEventKinds.OVERFLOW
          || (context instanceof Path p
              && (p.toString().equals(wal) || p.toString().equals(name)))) {
        ours = true;
      }
    }
    key.reset();
    return ours;
  }

  /**
   * Whether another connection committed since the last look: {@code PRAGMA data_version} moves for
   * every commit but this connection's own (and this process has only this one).
   */
  private boolean changed() {
    synchronized (this) {
      return changedSinceLastLook();
    }
  }

  private boolean changedSinceLastLook() {
    try {
      long v =
          db.read(
              "read the data version",
              d -> {
                try (ResultSet rs = d.prepare("PRAGMA data_version").executeQuery()) {
                  return rs.next() ? rs.getLong(1) : -1L;
                }
              });
      boolean changed = v != dataVersion;
      dataVersion = v;
      return changed;
    } catch (RuntimeException e) {
      return true; // the file is in trouble: let the consumers look for themselves
    }
  }

  @Override
  public void close() {
    WatchService ws;
    synchronized (lock) {
      closed = true;
      ws = service;
      service = null;
    }
    if (ws != null) {
      try {
        ws.close();
      } catch (IOException e) {
        log.debug("closing the watch of {}: {}", file, e.toString());
      }
    }
  }
}
