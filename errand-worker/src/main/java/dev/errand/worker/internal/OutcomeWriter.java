package dev.errand.worker.internal;

import dev.errand.BackendException;
import dev.errand.BackendUnavailableException;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.Settlement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place a worker's task writes go through: statuses, dead letters and the broker operations
 * that end deliveries, each outcome a {@link Settlement} the backend applies atomically, in the
 * order they were submitted, so a task's STARTED is stored before its outcome. What is pending is
 * settled in one {@link Backend#settle} call (group commit).
 *
 * <p>A write that fails is retried with backoff while the backend is unavailable ({@link
 * BackendUnavailableException}: for as long as it takes), and only then: a write that can never be
 * stored — it cannot be encoded, or the backend keeps refusing it while it answers every other call
 * — is replaced by its {@linkplain Write#ifUnstorable fallback} (the task ends as a dead letter
 * with the reason) and the writer goes on. One bad outcome never holds up the others. A write
 * pending longer than the stall bound is reported by {@link #stall()}, so the worker can report
 * itself as not consuming.
 */
public abstract class OutcomeWriter {

  private static final Logger log = LoggerFactory.getLogger(OutcomeWriter.class);

  /**
   * Failures of one write, each with the backend answering other calls since the one before, after
   * which the write is deemed unstorable rather than the backend unavailable.
   */
  static final int FAILURES_WHILE_ANSWERING = 3;

  /** Longest wait between two tries of a write while the backend is unavailable. */
  static final long MAX_BACKOFF_MS = 5_000;

  private final Backend backend;
  private final Duration ttl;
  private final BackendHealth health;

  /** Since when ({@link System#nanoTime()}) the write in progress has been trying, or 0. */
  private volatile long busySince;

  private volatile String lastError;

  OutcomeWriter(Backend backend, Duration ttl, BackendHealth health) {
    this.backend = backend;
    this.ttl = ttl;
    this.health = health;
  }

  /** Why writes are held up: since when ({@link System#nanoTime()}) and the last error, if any. */
  public record Stall(long sinceNanos, String lastError) {
    /** How long it has lasted. */
    public Duration duration() {
      return Duration.ofNanos(System.nanoTime() - sinceNanos);
    }
  }

  /** Queues a write (or, for the direct writer, writes it at once). */
  abstract void submit(Write write);

  /** Waits until everything submitted before this call has been written or given up. */
  public abstract void awaitFlushed() throws InterruptedException;

  /** Writes what is pending (trying each write a few times at most) and stops. */
  public abstract void close();

  /** Stops at once, writing nothing more (a simulated crash). */
  public abstract void halt();

  abstract boolean halted();

  abstract boolean closing();

  /** Whether failed writes are tried again (not in eager mode, where the caller is waiting). */
  abstract boolean retries();

  /** The write in progress when it has been trying for a while, or null. */
  public Stall stall() {
    long since = busySince;
    return since == 0 ? null : new Stall(since, lastError);
  }

  /** Writes each item at once on the calling thread (eager mode). */
  public static OutcomeWriter direct(Backend backend, Duration ttl) {
    return new Direct(backend, ttl);
  }

  /** Batches on a writer thread of its own. */
  public static OutcomeWriter batching(
      Backend backend, Duration ttl, BackendHealth health, String threadName) {
    return new Batching(backend, ttl, health, threadName);
  }

  /** Writes a batch in submission order: one {@link Backend#settle} call (group commit). */
  final void process(List<Write> batch) {
    writeUnit(batch);
  }

  private void writeUnit(List<Write> unit) {
    int failures = 0;
    int failuresWhileAnswering = 0;
    long lastFailure = 0;
    long backoffMs = 100;
    busySince = System.nanoTime();
    lastError = null;
    try {
      while (true) {
        if (halted()) {
          return; // a crash: nothing more is written or told
        }
        try {
          Set<String> stale = store(unit);
          if (stale != null) {
            health.answered();
          }
          if (failures > 0) {
            log.info("recorded {} task writes after {} tries", unit.size(), failures + 1);
          }
          for (Write w : unit) {
            if (stale == null || !isStale(w, stale)) {
              run(w.onWritten());
            }
            run(w.onDone());
          }
          return;
        } catch (RuntimeException e) {
          failures++;
          if (lastFailure != 0 && health.answeredSince(lastFailure)) {
            failuresWhileAnswering++;
          }
          lastFailure = System.nanoTime();
          lastError = e.toString();
          // Not a BackendException: the write cannot even be encoded, and never will be. An
          // unavailable backend is waited for, however long; a refusal of this very write is not,
          // once the backend has answered other calls between its tries.
          boolean unstorable =
              !(e instanceof BackendException)
                  || (!(e instanceof BackendUnavailableException)
                      && failuresWhileAnswering >= FAILURES_WHILE_ANSWERING);
          if (unstorable && unit.size() > 1) {
            // Find the culprit: each write alone, so the good ones are stored.
            log.warn(
                "{} task writes failed together ({}); writing them one by one",
                unit.size(),
                e.toString());
            for (Write w : unit) {
              writeUnit(List.of(w));
            }
            return;
          }
          if (unstorable) {
            giveUp(unit.get(0), e);
            return;
          }
          if (!retries() || (closing() && failures >= 3)) {
            log.error(
                "could not record {} task writes; their tasks run again after their leases",
                unit.size(),
                e);
            for (Write w : unit) {
              run(w.onDone());
            }
            return;
          }
          if (failures == 1) {
            log.error(
                "could not record {} task writes; retrying with backoff until the backend answers",
                unit.size(),
                e);
          } else {
            log.warn(
                "still cannot record {} task writes (try {}): {}",
                unit.size(),
                failures,
                e.toString());
          }
          if (!sleep(backoffMs)) {
            return;
          }
          backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        }
      }
    } finally {
      busySince = 0;
    }
  }

  /** Replaces a write that can never be stored by its fallback, or gives it up. */
  private void giveUp(Write w, RuntimeException cause) {
    Write fallback = w.ifUnstorable() == null ? null : w.ifUnstorable().apply(cause);
    if (fallback == null) {
      log.error("a write of task [{}] cannot be stored and is dropped", w.taskId(), cause);
      run(w.onDone());
      return;
    }
    log.error(
        "the outcome of task [{}] cannot be stored; the task ends as a dead letter instead",
        w.taskId(),
        cause);
    // The fallback has no fallback of its own: if it cannot be stored either, it is dropped and
    // the message, no longer renewed, comes back after its lease until it is dead-lettered.
    writeUnit(
        List.of(
            new Write(fallback.settlement(), fallback.onWritten(), fallback.onDone(), null)
                .thenDone(w.onDone())));
  }

  /**
   * Settles a unit in one call; returns the ids whose receipt was stale, or null if it held nothing
   * to store (flush markers only).
   */
  private Set<String> store(List<Write> unit) {
    // A status on its own is redundant when a later write of the batch stores a status of the same
    // task (RECEIVED, STARTED and SUCCESS of a quick task often meet here): only the last is kept.
    Set<String> later = new HashSet<>();
    List<Settlement> batch = new ArrayList<>(unit.size());
    for (int i = unit.size() - 1; i >= 0; i--) {
      Write w = unit.get(i);
      Settlement s = w.settlement();
      if (s == null) {
        continue;
      }
      if (w.isLoneStatus() && !later.add(s.statuses().get(0).id())) {
        continue;
      }
      if (!w.isLoneStatus()) {
        for (TaskStatus status : s.statuses()) {
          later.add(status.id());
        }
      }
      batch.add(s);
    }
    if (batch.isEmpty()) {
      return null;
    }
    Collections.reverse(batch);
    Set<String> stale = backend.settle(batch, ttl);
    for (String id : stale) {
      leaseLost(id);
    }
    return stale;
  }

  private static boolean isStale(Write w, Set<String> stale) {
    Settlement s = w.settlement();
    return s != null && s.delivery() != null && stale.contains(s.delivery().id());
  }

  private static void leaseLost(String id) {
    log.warn(
        "lease of task [{}] was lost before its outcome was stored (it ran longer than its lease"
            + " without renewal); nothing of this attempt was stored, and it may run again",
        id);
  }

  private static void run(Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException e) {
      log.warn("after-write callback failed", e);
    }
  }

  private boolean sleep(long ms) {
    try {
      Thread.sleep(ms);
      return true;
    } catch (InterruptedException e) {
      return !halted();
    }
  }

  private static final class Direct extends OutcomeWriter {
    Direct(Backend backend, Duration ttl) {
      super(backend, ttl, new BackendHealth());
    }

    @Override
    void submit(Write write) {
      process(List.of(write));
    }

    @Override
    public void awaitFlushed() {}

    @Override
    public void close() {}

    @Override
    public void halt() {}

    @Override
    boolean halted() {
      return false;
    }

    @Override
    boolean closing() {
      return false;
    }

    @Override
    boolean retries() {
      return false;
    }
  }

  /**
   * How long a status that ends nothing (RECEIVED, STARTED, PROGRESS) may wait in the batching
   * writer for the next write of its task: 50 ms. Submitting one does not wake the writer, so the
   * worker's fetch and slot threads hand a task on and start its handler without first waking the
   * writer (a thread hand-off, and a thread competing for the CPU, at the moment the task should
   * start). A round of the writer that finds one younger than this holds it back instead of storing
   * it, so a task that ends within the bound has only its outcome stored (one write instead of two
   * or three); a task still running then has its status stored at the bound.
   */
  static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** The most writes the batching writer settles in one call. */
  static final int MAX_BATCH = 512;

  /**
   * The most lone statuses the batching writer holds back at once: a round always has room for as
   * many new writes, so a burst of tasks starting together never keeps outcomes waiting.
   */
  static final int MAX_HELD = MAX_BATCH / 2;

  private static final class Batching extends OutcomeWriter {

    /** A write and when it was submitted ({@link System#nanoTime()}). */
    private record Queued(Write write, long at) {}

    private final ConcurrentLinkedQueue<Queued> queue = new ConcurrentLinkedQueue<>();
    // Lone statuses a round held back, in submission order; the writer thread's own.
    private final ArrayDeque<Queued> held = new ArrayDeque<>();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean closing;
    private volatile boolean halted;
    // Set while the writer may park: a submitter then wakes it (it reads the queue after setting
    // this, the submitter reads this after adding, so one of them sees the other).
    private volatile boolean idle;

    Batching(Backend backend, Duration ttl, BackendHealth health, String threadName) {
      super(backend, ttl, health);
      this.thread = new Thread(this::loop, threadName);
      this.thread.setDaemon(true);
      this.thread.start();
    }

    @Override
    void submit(Write write) {
      if (!halted) {
        queue.add(new Queued(write, System.nanoTime()));
        if (!write.isLoneStatus() && idle) {
          LockSupport.unpark(thread);
        }
      }
    }

    @Override
    public void awaitFlushed() throws InterruptedException {
      if (halted || Thread.currentThread() == thread) {
        return;
      }
      CountDownLatch done = new CountDownLatch(1);
      queue.add(new Queued(Write.marker(done::countDown), System.nanoTime()));
      LockSupport.unpark(thread);
      done.await();
    }

    private void loop() {
      List<Queued> taken = new ArrayList<>(MAX_BATCH);
      List<Write> batch = new ArrayList<>(MAX_BATCH);
      while (!halted) {
        taken.addAll(held);
        held.clear();
        for (Queued q; taken.size() < MAX_BATCH && (q = queue.poll()) != null; ) {
          taken.add(q);
        }
        holdBack(taken, batch, System.nanoTime());
        taken.clear();
        if (batch.isEmpty()) {
          if (stopping && held.isEmpty()) {
            return;
          }
          idle = true;
          if (queue.isEmpty()) {
            // until the next write that wakes the writer, or the oldest held status is due
            long wait = LINGER_NANOS;
            for (Queued h : held) {
              wait = Math.min(wait, h.at() + LINGER_NANOS - System.nanoTime());
            }
            if (wait > 0) {
              LockSupport.parkNanos(this, wait);
            }
          }
          idle = false;
          Thread.interrupted(); // only halt() interrupts, and the loop checks for it
          continue;
        }
        process(batch);
        batch.clear();
      }
    }

    /**
     * Sorts the writes taken in one round (in submission order) into those to store now, added to
     * {@code batch}, and the lone statuses younger than {@link #LINGER_NANOS} whose task has no
     * later status among them, kept in {@link #held} for the next round (the newest {@link
     * #MAX_HELD} at most). A young lone status superseded by a held one is dropped (as {@code
     * store} drops one superseded within its batch) and the held one is due when it would have
     * been; one that is due is stored. So no status is ever stored after a later one of its task,
     * and a task that reports progress more often than the bound still has it stored once per
     * bound. Nothing is held while a flush is awaited or the writer is closing.
     */
    private void holdBack(List<Queued> taken, List<Write> batch, long now) {
      boolean holding = !closing;
      for (int i = 0; holding && i < taken.size(); i++) {
        holding = taken.get(i).write().settlement() != null; // a flush marker
      }
      if (!holding) {
        for (Queued q : taken) {
          batch.add(q.write());
        }
        return;
      }
      Set<String> later = new HashSet<>();
      // newest first while walking back; an entry's time is its task's oldest status it replaced
      List<Queued> newlyHeld = new ArrayList<>();
      Map<String, Integer> heldAt = new HashMap<>();
      int kept = 0;
      for (int i = taken.size() - 1; i >= 0; i--) {
        Queued q = taken.get(i);
        Write w = q.write();
        if (w.isLoneStatus()) {
          String id = w.settlement().statuses().get(0).id();
          boolean young = now - q.at() < LINGER_NANOS;
          Integer h = heldAt.get(id);
          if (h != null && young) {
            // replaced by the held one, which is due when this one would have been: a task that
            // reports progress more often than the bound still has it stored once per bound
            Queued newer = newlyHeld.get(h);
            newlyHeld.set(h, new Queued(newer.write(), Math.min(newer.at(), q.at())));
            continue;
          }
          if (h == null && !later.contains(id) && young && newlyHeld.size() < MAX_HELD) {
            heldAt.put(id, newlyHeld.size());
            newlyHeld.add(q);
            later.add(id);
            continue;
          }
        }
        for (TaskStatus status : w.settlement().statuses()) {
          later.add(status.id());
        }
        taken.set(taken.size() - 1 - kept++, q); // compacted towards the end, order kept
      }
      for (int i = newlyHeld.size() - 1; i >= 0; i--) {
        held.addLast(newlyHeld.get(i));
      }
      for (int i = taken.size() - kept; i < taken.size(); i++) {
        batch.add(taken.get(i).write());
      }
    }

    @Override
    public void close() {
      closing = true;
      try {
        awaitFlushed();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stopping = true;
    }

    @Override
    public void halt() {
      halted = true;
      queue.clear();
      thread.interrupt();
    }

    @Override
    boolean halted() {
      return halted;
    }

    @Override
    boolean closing() {
      return closing;
    }

    @Override
    boolean retries() {
      return true;
    }
  }
}
