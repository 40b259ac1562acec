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
    boolean ok;
    try {
      Set<String> stale = backend.storeAndAck(statuses, ttl, acks);
      for (String id : stale) {
        log.warn(
            "lease of task [{}] was lost before its ack (it ran longer than its lease without"
                + " renewal); it may run again",
            id);
      }
      ok = true;
    } catch (RuntimeException e) {
      log.error(
          "could not record {} outcomes; their tasks will be delivered again after their leases",
          items.size(),
          e);
      ok = false;
    }
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
            write(backend, ttl, batch);
          }
          batch.clear();
        } catch (InterruptedException e) {
          if (halted) {
            return;
          }
        }
      }
    }

    @Override
    public void close() {
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
