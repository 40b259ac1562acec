package dev.errand.worker;

import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A retry a worker held back because the previous attempt of its task was still running on a thread
 * stuck past its hard time limit, and that was still held when the worker stopped. Two attempts of
 * a task must never run at once, and a JVM cannot kill a thread: so the retry is sent by whoever
 * outlives the process that holds the stuck thread — {@code errand worker}'s supervisor sends it
 * once the worker process it recycled has exited. Immutable.
 *
 * @param delivery the delivery still leased by the stopped worker, or null if the task acked early
 *     (then the retry is a new message with the same id)
 * @param id the task id
 * @param queue its queue
 * @param priority its priority
 * @param body the message body of the next attempt
 * @param notBefore when the next attempt may start
 */
public record HeldRetry(
    Delivery delivery, String id, String queue, int priority, byte[] body, Instant notBefore) {

  public HeldRetry {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(notBefore, "notBefore");
  }

  /**
   * Sends the retry: replaces the leased message's body and makes it ready at {@link #notBefore},
   * or enqueues it anew if it was acked early. Call only once the process that held the stuck
   * thread has exited.
   *
   * @return false if the lease had already run out (the message was delivered again meanwhile)
   */
  public boolean send(Broker broker) {
    if (delivery != null) {
      return broker.retry(delivery, body, notBefore);
    }
    broker.enqueue(List.of(new NewMessage(id, queue, priority, body, notBefore, null, null)));
    return true;
  }
}
