package dev.errand.redis.internal;

import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.InvalidMessageException;
import dev.errand.TaskError;
import dev.errand.spi.DeadLetterStore;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what the queue scripts set aside into dead letters, so nothing is lost and the queue keeps
 * working: values of the wrong type found under a queue's keys (written by another program; the
 * scripts moved them to {@code KEY:foreign:<time>}, see {@code guard.lua}), and messages whose
 * metadata is not Errand's (the claim leased them apart). Thread-safe.
 */
final class Quarantine {

  private static final Logger log = LoggerFactory.getLogger(Quarantine.class);

  private static final String ASIDE = ":foreign:";

  private final Redis redis;
  private final Clock clock;
  private final DeadLetterStore deadLetters;

  Quarantine(Redis redis, Clock clock, DeadLetterStore deadLetters) {
    this.redis = redis;
    this.clock = clock;
    this.deadLetters = deadLetters;
  }

  /** The keys in a script's list of keys moved aside (see {@code guard.lua}). */
  static List<String> keys(Object reply) {
    List<String> out = new ArrayList<>();
    if (reply instanceof List<?> list) {
      for (Object o : list) {
        out.add(RedisBroker.text(o));
      }
    }
    return out;
  }

  /** Dead-letters and then deletes each value moved aside to {@code asideKeys}. */
  void foreignValues(String queue, List<String> asideKeys) {
    for (String key : asideKeys) {
      foreignValue(QueueShards.logical(queue), key);
    }
  }

  private void foreignValue(String queue, String aside) {
    String original = aside.substring(0, aside.lastIndexOf(ASIDE));
    RedisClusterAsyncCommands<String, byte[]> cmd = redis.async();
    String type = redis.await(cmd.type(aside), "inspect foreign key " + aside);
    List<byte[]> values =
        switch (type) {
          case "list" -> redis.await(cmd.lrange(aside, 0, -1), "read foreign key " + aside);
          case "set" -> new ArrayList<>(redis.await(cmd.smembers(aside), "read " + aside));
          case "zset" -> redis.await(cmd.zrange(aside, 0, -1), "read foreign key " + aside);
          case "string" -> List.of(redis.await(cmd.get(aside), "read foreign key " + aside));
          case "hash" -> new ArrayList<>(redis.await(cmd.hvals(aside), "read " + aside));
          case "none" -> List.of(); // handled by an earlier call
          default -> List.of(("(a Redis " + type + ")").getBytes(StandardCharsets.UTF_8));
        };
    Instant now = clock.instant();
    for (int i = 0; i < values.size(); i++) {
      deadLetters.add(
          new DeadLetter(
              "foreign-" + UUID.randomUUID(),
              null,
              queue,
              DeadLetterReason.UNDECODABLE,
              TaskError.of(
                  "InvalidMessage",
                  "found a Redis "
                      + type
                      + " under the queue key "
                      + original
                      + " (Errand keeps "
                      + expected(original)
                      + " there); element "
                      + (i + 1)
                      + " of "
                      + values.size()
                      + " was not written by Errand"),
              null,
              null,
              Wire.bodyText(values.get(i)),
              1,
              null,
              now));
    }
    redis.await(cmd.del(aside), "remove foreign key " + aside);
    if (!values.isEmpty()) {
      log.error(
          "queue '{}': a Redis {} of {} values was found under its key {} (not written by Errand);"
              + " moved them to the dead letters",
          queue,
          type,
          values.size(),
          original);
    }
  }

  private static String expected(String key) {
    if (key.endsWith(":ready") || key.endsWith(":delayed") || key.endsWith(":leased")) {
      return "a sorted set";
    }
    if (key.endsWith(":body") || key.endsWith(":meta")) {
      return "a hash";
    }
    if (key.endsWith(":seq")) {
      return "an integer counter";
    }
    return "a string 'expiresAt|id'"; // an idempotency key
  }

  /**
   * Dead-letters the messages a claim leased apart because their metadata is not Errand's ({@code
   * id, body, meta, receipt} per message in {@code flat}); returns their deliveries, for the caller
   * to ack once the dead letters are stored.
   */
  List<dev.errand.spi.Delivery> corruptMetadata(
      String physical, String metaKey, List<Object> flat) {
    String queue = QueueShards.logical(physical); // the receipts name the shard
    Instant now = clock.instant();
    List<dev.errand.spi.Delivery> out = new ArrayList<>(flat.size() / 4);
    for (int i = 0; i + 3 < flat.size(); i += 4) {
      String id = RedisBroker.text(flat.get(i));
      byte[] body = (byte[]) flat.get(i + 1);
      String meta = RedisBroker.text(flat.get(i + 2));
      TaskMessage m = null;
      try {
        m = Wire.decodeMessage(body);
      } catch (InvalidMessageException e) {
        // the body is as broken as its metadata: kept as it is
      }
      deadLetters.add(
          new DeadLetter(
              id,
              m == null ? null : m.task(),
              queue,
              DeadLetterReason.UNDECODABLE,
              TaskError.of(
                  "InvalidMessage",
                  "the metadata of message "
                      + id
                      + " under "
                      + metaKey
                      + " is not Errand's: '"
                      + meta
                      + "' (expected 'priority 0-9,score,deliveries,receipt,readyAt' with"
                      + " deliveries below 10^9)"),
              m == null ? null : m.args(),
              m == null ? null : m.kwargs(),
              Wire.bodyText(body),
              1,
              m == null ? null : m.sentAt(),
              now));
      out.add(
          new dev.errand.spi.Delivery(
              id, queue, 0, body, 1, RedisBroker.text(flat.get(i + 3)), now));
      log.error(
          "queue '{}': message {} has metadata Errand did not write ('{}'); moved it to the dead"
              + " letters",
          queue,
          id,
          meta);
    }
    return out;
  }
}
