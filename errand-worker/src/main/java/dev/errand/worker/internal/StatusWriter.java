package dev.errand.worker.internal;

import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the hot path's statuses and acks in batches (group commit): slot threads hand them over
 * and go on with the next task, and one writer thread stores everything pending in one {@link
 * Backend#storeAndAck} call. Order is kept: a task's STARTED is stored before its SUCCESS, and a
 * status before its ack. Paths that write directly (retry, failure) first wait for what is pending
 * with {@link #awaitFlushed()}.
 */
public abstract class StatusWriter {

  private static final Logger log = LoggerFactory.getLogger(StatusWriter.class);

  /**
   * One write.
   *
   * @param status a status to store, or null
   * @param ack a delivery to ack after it, or null
   * @param then told whether it was written (false: it failed, the lease will bring it back)
   */
  record Item(TaskStatus status, Delivery ack, Consumer<Boolean> then) {}

  abstract void submit(Item item);

  /** Waits until everything submitted before this call is written. */
  public abstract void awaitFlushed() throws InterruptedException;

  /** Writes what is pending and stops. */
  public abstract void close();

  /** Stops at once, writing nothing more (a simulated crash). */
  public abstract void halt();

  /** Writes each item at once on the calling thread (eager mode). */
  public static StatusWriter direct(Backend backend, Duration ttl) {
    return new StatusWriter() {
      @Override
      void submit(Item item) {
        write(backend, ttl, List.of(item));
      }

      @Override
      public void awaitFlushed() {}

      @Override
      public void close() {}

      @Override
      public void halt() {}
    };
  }

  /** Batches on a writer thread of its own. */
  public static StatusWriter batching(Backend backend, Duration ttl, String threadName) {
    return new Batching(backend, ttl, threadName);
  }

  static void write(Backend backend, Duration ttl, List<Item> items) {
    finish(items, attempt(backend, ttl, items, true));
  }

  /** Stores the batch; false if the backend failed (logged at error if {@code loud}). */
  static boolean attempt(Backend backend, Duration ttl, List<Item> items, boolean loud) {
    // Within one batch only a task's last status matters (RECEIVED, STARTED and SUCCESS of a
    // quick task often meet here): write that one, in the order of its last occurrence.
    java.util.LinkedHashMap<String, TaskStatus> last = new java.util.LinkedHashMap<>();
    List<Delivery> acks = new ArrayList<>(items.size());
    for (Item i : items) {
      if (i.status() != null) {
        last.remove(i.status().id());
        last.put(i.status().id(), i.status());
      }
      if (i.ack() != null) acks.add(i.ack());
    }
    List<TaskStatus> statuses = new ArrayList<>(last.values());
    try {
      Set<String> stale = backend.storeAndAck(statuses, ttl, acks);
      for (String id : stale) {
        log.warn(
            "lease of task [{}] was lost before its ack (it ran longer than its lease without"
                + " renewal); it may run again",
            id);
      }
      return true;
    } catch (RuntimeException e) {
      if (loud) {
        log.error("could not record {} outcomes", items.size(), e);
      } else {
        log.warn("still cannot record {} outcomes: {}", items.size(), e.toString());
      }
      return false;
    }
  }

  /** Tells each item's callback whether it was written. */
  static void finish(List<Item> items, boolean ok) {
    for (Item i : items) {
      if (i.then() != null) {
        try {
          i.then().accept(ok);
        } catch (RuntimeException e) {
          log.warn("after-write callback failed", e);
        }
      }
    }
  }

  private static final class Batching extends StatusWriter {
    private static final int MAX_BATCH = 512;

    private final Backend backend;
    private final Duration ttl;
    private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean closing;
    private volatile boolean halted;

    Batching(Backend backend, Duration ttl, String threadName) {
      this.backend = backend;
      this.ttl = ttl;
      this.thread = new Thread(this::loop, threadName);
      this.thread.setDaemon(true);
      this.thread.start();
    }

    @Override
    void submit(Item item) {
      if (halted) {
        return;
      }
      queue.add(item);
    }

    @Override
    public void awaitFlushed() throws InterruptedException {
      if (halted || Thread.currentThread() == thread) {
        return;
      }
      java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
      queue.add(new Item(null, null, ok -> done.countDown()));
      done.await();
    }

    private void loop() {
      List<Item> batch = new ArrayList<>(MAX_BATCH);
      while (!halted) {
        try {
          Item first = queue.poll(50, TimeUnit.MILLISECONDS);
          if (first == null) {
            if (stopping) {
              return;
            }
            continue;
          }
          batch.add(first);
          queue.drainTo(batch, MAX_BATCH - 1);
          if (!halted) {
            writeRetrying(batch);
          }
          batch.clear();
        } catch (InterruptedException e) {
          if (halted) {
            return;
          }
        }
      }
    }

    /**
     * Writes a batch, retrying with backoff (100 ms doubling to 5 s) while the backend is down, so
     * a blip costs no re-runs; gives up after three tries once the worker is closing or halted.
     */
    private void writeRetrying(List<Item> batch) {
      boolean ok = attempt(backend, ttl, batch, true);
      if (!ok && !halted) {
        log.warn(
            "retrying with backoff until the backend answers; the tasks run again only if this"
                + " worker stops first");
      }
      long backoffMs = 100;
      for (int tries = 1; !ok && !halted && !(closing && tries >= 3); tries++) {
        try {
          Thread.sleep(backoffMs);
        } catch (InterruptedException e) {
          if (halted) {
            break;
          }
        }
        backoffMs = Math.min(backoffMs * 2, 5_000);
        ok = attempt(backend, ttl, batch, false);
        if (ok) {
          log.info("recorded {} outcomes after {} tries", batch.size(), tries + 1);
        }
      }
      finish(batch, ok);
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
  }
}
