package dev.errand.worker.internal;

import dev.errand.TaskError;
import dev.errand.TaskFailedException;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import dev.errand.spi.ResultStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker of eager mode: enqueuing a message runs it at once on the caller's thread through the
 * same {@link TaskRunner} a worker uses. Retries run at once too (countdown and eta are not waited
 * for), so a call returns with the task's final state recorded. Thread-safe.
 */
public final class InlineBroker implements Broker {

  private static final Instant NEVER = Instant.parse("9999-12-31T23:59:59Z");

  private record Key(String id, Instant expiresAt) {}

  private final Clock clock;
  private final ResultStore results;
  private final boolean propagate;
  private final Map<String, Key> keys = new ConcurrentHashMap<>();
  private final Map<String, byte[]> retries = new ConcurrentHashMap<>();
  private final ThreadLocal<ArrayDeque<NewMessage>> pending = new ThreadLocal<>();
  private volatile TaskRunner runner;

  public InlineBroker(Clock clock, ResultStore results, boolean propagate) {
    this.clock = clock;
    this.results = results;
    this.propagate = propagate;
  }

  /** Connects the runner (which itself needs this broker). */
  public void runner(TaskRunner runner) {
    this.runner = runner;
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    List<EnqueueResult> out = new ArrayList<>(messages.size());
    for (NewMessage m : messages) {
      if (m.idempotencyKey() != null) {
        Instant now = clock.instant();
        Key fresh = new Key(m.id(), now.plus(m.idempotencyWindow()));
        Key held =
            keys.compute(
                m.idempotencyKey(),
                (k, old) -> old == null || !now.isBefore(old.expiresAt()) ? fresh : old);
        if (held != fresh) {
          out.add(new EnqueueResult(held.id(), true));
          continue;
        }
      }
      out.add(new EnqueueResult(m.id(), false));
      drain(m);
    }
    return out;
  }

  /**
   * Runs a workflow's follow-ups (sent by the settlement of a task running on this thread) once
   * that task is over, in order, or at once when no task runs.
   */
  public void followUps(List<NewMessage> messages) {
    ArrayDeque<NewMessage> queued = pending.get();
    for (NewMessage m : messages) {
      if (queued != null) {
        queued.add(m);
      } else {
        drain(m);
      }
    }
  }

  /**
   * Runs {@code first}, then whatever the tasks it runs send, in order, on this thread: a chain of
   * a thousand steps runs as a loop, not a thousand nested calls.
   */
  private void drain(NewMessage first) {
    ArrayDeque<NewMessage> outer = pending.get(); // a task that enqueues runs its call to the end
    ArrayDeque<NewMessage> queued = new ArrayDeque<>();
    pending.set(queued);
    try {
      run(first);
      for (NewMessage next; (next = queued.poll()) != null; ) {
        run(next);
      }
    } finally {
      pending.set(outer);
    }
  }

  private void run(NewMessage m) {
    byte[] body = m.body();
    while (body != null) {
      String receipt = UUID.randomUUID().toString();
      Delivery d = new Delivery(m.id(), m.queue(), m.priority(), body, 1, receipt, NEVER);
      for (Attempt a : runner.receive(List.of(d))) {
        runner.run(a);
      }
      body = retries.remove(receipt);
    }
    if (propagate) {
      TaskStatus status = results.get(m.id()).orElse(null);
      if (status != null && status.state() == TaskState.FAILURE) {
        TaskError error =
            status.error() != null ? status.error() : TaskError.of("UnknownError", null);
        throw new TaskFailedException(m.id(), status.name(), error);
      }
    }
  }

  @Override
  public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait) {
    return List.of(); // nothing ever waits in a queue in eager mode
  }

  @Override
  public boolean ack(Delivery delivery) {
    return true;
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    return Set.of();
  }

  @Override
  public boolean release(Delivery delivery) {
    retries.put(delivery.receipt(), delivery.body());
    return true;
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    retries.put(delivery.receipt(), body);
    return true;
  }

  @Override
  public void wakeup() {}

  @Override
  public List<String> queues() {
    return List.of();
  }

  @Override
  public QueueStats stats(String queue) {
    return new QueueStats(queue, 0, 0, 0, Map.of(), null, false, 0);
  }

  /** Eager tasks run at once, in the caller: there is no queue to pause. */
  @Override
  public void pause(String queue) {
    throw new UnsupportedOperationException("eager mode runs tasks inline: no queue to pause");
  }

  @Override
  public void resume(String queue) {}

  @Override
  public List<dev.errand.spi.LimitStats> limits(String queue, int max) {
    return List.of();
  }

  @Override
  public List<String> pausedQueues() {
    return List.of();
  }

  @Override
  public long purge(String queue) {
    return 0;
  }
}
