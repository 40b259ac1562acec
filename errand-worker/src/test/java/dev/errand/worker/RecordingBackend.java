package dev.errand.worker;

import dev.errand.BackendException;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.EventStore;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.WorkerRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A backend that counts broker calls, over a real one, and fails or hangs on demand: claims,
 * renewals, and status writes (all of them, or those a predicate picks).
 */
final class RecordingBackend implements Backend {

  /** Every call throws a BackendException while set: claims, renewals, writes, heartbeats. */
  volatile boolean down;

  /** Claims throw a BackendException while set. */
  volatile boolean claimsFail;

  /** Claims block (ignoring interrupts, like a dead socket) while set. */
  volatile boolean claimsHang;

  /** Lease renewals block (ignoring interrupts) while set. */
  volatile boolean renewalsHang;

  /** Status writes block (ignoring interrupts) while set. */
  volatile boolean writesHang;

  /** Status writes throw what this returns for a status (null: the write goes through). */
  volatile Function<TaskStatus, RuntimeException> statusFault = s -> null;

  private final ResultStore results;

  final Backend inner;
  final AtomicInteger renewals = new AtomicInteger();
  final AtomicInteger releases = new AtomicInteger();
  final AtomicInteger acks = new AtomicInteger();
  private final Broker broker;

  RecordingBackend(Backend inner) {
    this.inner = inner;
    this.results = new FaultyResults();
    Broker b = inner.broker();
    this.broker =
        new Broker() {
          @Override
          public List<EnqueueResult> enqueue(List<NewMessage> messages) {
            return b.enqueue(messages);
          }

          @Override
          public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
              throws InterruptedException {
            hangWhile(() -> claimsHang);
            checkUp();
            if (claimsFail) {
              throw new BackendException("injected: claims fail", null);
            }
            return b.claim(queues, max, lease, wait);
          }

          @Override
          public boolean ack(Delivery delivery) {
            acks.incrementAndGet();
            return b.ack(delivery);
          }

          @Override
          public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
            hangWhile(() -> renewalsHang);
            checkUp();
            Set<String> lost = b.renew(deliveries, lease);
            renewals.incrementAndGet();
            return lost;
          }

          @Override
          public boolean release(Delivery delivery) {
            releases.incrementAndGet();
            return b.release(delivery);
          }

          @Override
          public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
            return b.retry(delivery, body, notBefore);
          }

          @Override
          public void wakeup() {
            b.wakeup();
          }

          @Override
          public List<String> queues() {
            return b.queues();
          }

          @Override
          public QueueStats stats(String queue) {
            return b.stats(queue);
          }

          @Override
          public long purge(String queue) {
            return b.purge(queue);
          }

          @Override
          public void pause(String queue) {
            b.pause(queue);
          }

          @Override
          public void resume(String queue) {
            b.resume(queue);
          }

          @Override
          public List<dev.errand.spi.LimitStats> limits(String queue, int max) {
            return b.limits(queue, max);
          }

          @Override
          public List<String> pausedQueues() {
            return b.pausedQueues();
          }
        };
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return results;
  }

  private void checkUp() {
    if (down) {
      throw new dev.errand.BackendUnavailableException("injected: backend down", null);
    }
  }

  private void checkWrite(List<TaskStatus> statuses) {
    hangWhile(() -> writesHang);
    checkUp();
    for (TaskStatus s : statuses) {
      RuntimeException fault = statusFault.apply(s);
      if (fault != null) {
        throw fault;
      }
    }
  }

  /** Blocks while {@code condition} holds, deaf to interrupts like a call on a dead socket. */
  private static void hangWhile(BooleanSupplier condition) {
    while (condition.getAsBoolean()) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        // deaf, on purpose
      }
    }
  }

  private final class FaultyResults implements ResultStore {
    private final ResultStore r = inner.results();

    @Override
    public void put(TaskStatus status, Duration ttl) {
      checkWrite(List.of(status));
      r.put(status, ttl);
    }

    @Override
    public void putAll(List<TaskStatus> statuses, Duration ttl) {
      checkWrite(statuses);
      r.putAll(statuses, ttl);
    }

    @Override
    public Optional<TaskStatus> get(String taskId) {
      return r.get(taskId);
    }

    @Override
    public TaskPage search(TaskQuery query) {
      return r.search(query);
    }

    @Override
    public long count(TaskQuery query) {
      return r.count(query);
    }

    @Override
    public long[] countByTime(TaskQuery query, dev.errand.spi.TimeBuckets buckets) {
      return r.countByTime(query, buckets);
    }

    @Override
    public CompletableFuture<TaskStatus> whenReady(String taskId) {
      return r.whenReady(taskId);
    }

    @Override
    public void revoke(String taskId, Duration ttl) {
      r.revoke(taskId, ttl);
    }

    @Override
    public Set<String> revoked(Collection<String> taskIds) {
      return r.revoked(taskIds);
    }

    @Override
    public boolean claimOnce(String key, Duration ttl) {
      return r.claimOnce(key, ttl);
    }
  }

  @Override
  public DeadLetterStore deadLetters() {
    return inner.deadLetters();
  }

  @Override
  public EventStore events() {
    return inner.events();
  }

  @Override
  public WorkerRegistry workers() {
    WorkerRegistry w = inner.workers();
    return new WorkerRegistry() {
      @Override
      public void heartbeat(dev.errand.WorkerInfo info, Duration ttl) {
        checkUp();
        w.heartbeat(info, ttl);
      }

      @Override
      public List<dev.errand.WorkerInfo> live() {
        return w.live();
      }

      @Override
      public void remove(String workerName) {
        w.remove(workerName);
      }
    };
  }

  @Override
  public ScheduleStore schedules() {
    return inner.schedules();
  }

  /** How many of the next {@link #settle} calls fail, as if the backend were down. */
  final java.util.concurrent.atomic.AtomicInteger failingWrites =
      new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public dev.errand.spi.WorkflowStore workflows() {
    return inner.workflows();
  }

  /** Counts the endings and applies the status faults, then settles on the real backend. */
  @Override
  public java.util.Set<String> settle(List<dev.errand.spi.Settlement> batch, Duration ttl) {
    if (failingWrites.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new dev.errand.BackendUnavailableException("injected: backend down", null);
    }
    for (dev.errand.spi.Settlement s : batch) {
      checkWrite(s.statuses());
    }
    for (dev.errand.spi.Settlement s : batch) {
      if (s.ending() instanceof dev.errand.spi.Settlement.Ending.Ack) {
        acks.incrementAndGet();
      } else if (s.ending() instanceof dev.errand.spi.Settlement.Ending.Release) {
        releases.incrementAndGet();
      }
    }
    return inner.settle(batch, ttl);
  }

  @Override
  public java.time.Clock clock() {
    return inner.clock();
  }

  @Override
  public String describe() {
    return "recording " + inner.describe();
  }

  @Override
  public void close() {
    inner.close();
  }
}
