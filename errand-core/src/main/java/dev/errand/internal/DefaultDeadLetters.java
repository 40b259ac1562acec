package dev.errand.internal;

import dev.errand.DeadLetter;
import dev.errand.DeadLetters;
import dev.errand.InvalidMessageException;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.NewMessage;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Dead letter operations over a backend. Thread-safe. */
final class DefaultDeadLetters implements DeadLetters {

  private static final int BATCH = 500;
  private static final Duration PENDING_TTL = Duration.ofDays(1);

  private final Backend backend;
  private final Clock clock;

  DefaultDeadLetters(Backend backend, Clock clock) {
    this.backend = backend;
    this.clock = clock;
  }

  @Override
  public List<DeadLetter> list(String queue, int offset, int limit) {
    if (offset < 0 || limit < 0) {
      throw new IllegalArgumentException(
          "offset and limit must be >= 0 but were " + offset + " and " + limit);
    }
    return backend.deadLetters().list(queue, offset, limit);
  }

  @Override
  public Optional<DeadLetter> get(String id) {
    return backend.deadLetters().get(id);
  }

  @Override
  public long count(String queue) {
    return backend.deadLetters().count(queue);
  }

  @Override
  public boolean redrive(String id) {
    Optional<DeadLetter> found = backend.deadLetters().get(id);
    if (found.isEmpty()) {
      return false;
    }
    DeadLetter dl = found.get();
    byte[] raw = dl.body().getBytes(StandardCharsets.UTF_8);
    Instant now = clock.instant();
    byte[] body;
    int priority = TaskOptions.DEFAULT_PRIORITY;
    String queue = dl.queue();
    MessageOptions options = MessageOptions.NONE;
    try {
      TaskMessage m = Wire.decodeMessage(raw);
      options = m.options();
      TaskMessage again = m.forRedrive(now);
      body = Wire.encodeMessage(again);
      priority = m.priority();
      backend
          .results()
          .put(
              new TaskStatus(
                  id,
                  m.task(),
                  TaskState.PENDING,
                  queue,
                  null,
                  null,
                  null,
                  null,
                  0,
                  null,
                  now,
                  null,
                  null,
                  null,
                  now),
              PENDING_TTL);
    } catch (InvalidMessageException e) {
      if (dl.body().startsWith("(") && dl.body().endsWith("not UTF-8 text)")) {
        throw new IllegalStateException(
            "dead letter " + id + " holds a binary body that cannot be sent again", e);
      }
      // An undecodable message goes back as it was: fixing the worker may be the cure.
      body = raw;
    }
    // Enqueue before removing: a crash in between leaves a duplicate, never a loss.
    // Sent again as first sent: under its limit, and holding its unique key. While another task
    // holds the key, nothing is sent, and the dead letter stays for a later re-drive.
    EnqueueResult sent =
        backend
            .broker()
            .enqueue(
                List.of(
                    options.applyTo(new NewMessage(id, queue, priority, body, null, null, null))))
            .get(0);
    if (sent.duplicate() && !sent.id().equals(id)) {
      throw new IllegalStateException(
          "dead letter "
              + id
              + " holds unique key '"
              + options.uniqueKey()
              + "', which task "
              + sent.id()
              + " holds now: re-drive it once that one has ended");
    }
    backend.deadLetters().remove(id);
    return true;
  }

  @Override
  public int redriveAll(String queue) {
    // Each dead letter at most once per call: one that fails again at once (a task no worker
    // knows, a bug not yet fixed) comes back to the list while this runs, and re-sending it again
    // would loop for as long as workers keep failing it.
    Set<String> handled = new HashSet<>();
    int done = 0;
    int offset = 0; // entries left in place: binary bodies, and ones already re-sent by this call
    while (true) {
      List<DeadLetter> page = backend.deadLetters().list(queue, offset, BATCH);
      if (page.isEmpty()) {
        return done;
      }
      for (DeadLetter dl : page) {
        if (!handled.add(dl.id())) {
          offset++;
          continue;
        }
        try {
          if (redrive(dl.id())) {
            done++;
          }
        } catch (IllegalStateException binaryBodyOrKeyHeld) {
          offset++; // stays in the list for an operator to look at, discard or re-drive later
        }
      }
    }
  }

  @Override
  public boolean discard(String id) {
    return backend.deadLetters().remove(id);
  }

  @Override
  public int discardAll(String queue) {
    int done = 0;
    while (true) {
      List<DeadLetter> page = backend.deadLetters().list(queue, 0, BATCH);
      if (page.isEmpty()) {
        return done;
      }
      for (DeadLetter dl : page) {
        if (backend.deadLetters().remove(dl.id())) {
          done++;
        }
      }
    }
  }
}
