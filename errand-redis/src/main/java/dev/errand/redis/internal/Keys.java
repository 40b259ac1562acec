package dev.errand.redis.internal;

import java.util.regex.Pattern;

/**
 * Every Redis key and channel name Errand uses, under one prefix. All keys of one queue share a
 * hash tag ({@code {q:NAME}}), so a script that touches one queue stays in one Redis Cluster slot;
 * {@code docs/redis.md} lists every key with its type and lifetime. The settle script ({@code
 * settle.lua}) builds the names of queue, result, chord and dead letter index keys from the prefix
 * itself, as this class does: the two change together.
 */
public final class Keys {

  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

  /** The default prefix: {@value}. */
  public static final String DEFAULT_PREFIX = "errand";

  private final String p;

  /**
   * @param prefix letters, digits and {@code _ . : -}, at most 64
   * @throws IllegalArgumentException naming the prefix when it is not allowed
   */
  public Keys(String prefix) {
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "Redis key prefix '"
              + prefix
              + "' is not allowed: use 1-64 letters, digits and _ . : - (no braces)");
    }
    this.p = prefix;
  }

  public String prefix() {
    return p;
  }

  /** The keys of one queue, in the order the queue scripts take them. */
  public QueueKeys queue(String queue) {
    String base = p + ":q:{" + queue + "}:";
    return new QueueKeys(
        base + "ready",
        base + "delayed",
        base + "leased",
        base + "body",
        base + "meta",
        base + "seq",
        base + "idem:",
        p + ":wake:" + queue,
        base + "paused");
  }

  /**
   * Hash of a queue's outbox (Redis Cluster): receipt#n → {@code stampMs|entry}, the parts of a
   * settlement outside the queue's slot, written with its ending and deleted once applied.
   */
  public String outbox(String queue) {
    return p + ":q:{" + queue + "}:outbox";
  }

  /** Hash of sharded queue → its shard counts ({@code n[;old@sinceMs]...}, see QueueShards). */
  public String queueShards() {
    return p + ":{queues}:shards";
  }

  /** The channel a change of a queue's shard count is announced on. */
  public String shardsChannel() {
    return p + ":shards";
  }

  /** Set of the paused queues' names (each queue's own {@code paused} key is what claims read). */
  public String pausedQueues() {
    return p + ":{queues}:paused";
  }

  /** Sorted set of queue names by last enqueue time. */
  public String queues() {
    return p + ":{queues}";
  }

  /** A task's stored status. */
  public String result(String taskId) {
    return p + ":r:{" + taskId + "}";
  }

  /**
   * The start of every task index key ({@code PREFIX:{tasks}:}): the indexes of stored statuses
   * share one hash tag, so each index update is one script on one Cluster slot.
   */
  public String taskIndexPrefix() {
    return p + ":{tasks}:";
  }

  /** Hash of task id → its indexed fields ({@code expiresAt\0state\0name\0queue\0parent}). */
  public String taskIndexMeta() {
    return taskIndexPrefix() + "meta";
  }

  /** Sorted set of indexed task ids by expiry (ms), to trim the indexes. */
  public String taskIndexExpiry() {
    return taskIndexPrefix() + "expiry";
  }

  /**
   * Sorted set of the task ids whose {@code field} ({@code state}, {@code name}, {@code queue} or
   * {@code parent}) is {@code value}, by update time (ms). The scripts build the same names.
   */
  public String taskIndex(String field, String value) {
    return taskIndexPrefix() + field + ":" + value;
  }

  /** The channel a ready status of a task is published on. */
  public String doneChannel(String taskId) {
    return p + ":done:" + taskId;
  }

  /** Prefix of the channels above, to tell them apart in the subscriber. */
  public String doneChannelPrefix() {
    return p + ":done:";
  }

  /** Prefix of the queue wake-up channels. */
  public String wakeChannelPrefix() {
    return p + ":wake:";
  }

  /** Sorted set of revoked task ids by expiry. */
  public String revoked() {
    return p + ":{revoked}";
  }

  /** The channel revocations are announced on: {@code "<expiresAt ms> <task id>"}. */
  public String revokeChannel() {
    return p + ":revoke";
  }

  /** List of a group's expiry (ms, backend clock) and then its member ids, in order. */
  public String group(String groupId) {
    return p + ":group:{" + groupId + "}";
  }

  /** String of a long chain's stored steps, with its expiry (as a task's result value). */
  public String steps(String id) {
    return p + ":steps:{" + id + "}";
  }

  /**
   * Hash of a chord's state: {@code expiresAt} (ms, backend clock), {@code size}, {@code policy},
   * {@code failed}, {@code firing} and the callback message ({@code cb.id}, {@code cb.queue},
   * {@code cb.priority}, {@code cb.body}, {@code cb.notBefore}, {@code cb.key}, {@code cb.window}).
   * Without {@code size} it is a placeholder for parts settled before the chord was stored.
   */
  public String chord(String chordId) {
    return p + ":chord:{" + chordId + "}";
  }

  /** Hash of a chord's finished members: index → {@code 1} failed, {@code 0} succeeded. */
  public String chordParts(String chordId) {
    return chord(chordId) + ":parts";
  }

  /** A {@code ctx.once} claim. */
  public String once(String key) {
    return p + ":once:{" + key + "}";
  }

  public String deadLetters() {
    return p + ":{dead}:letters";
  }

  public String deadIndex() {
    return p + ":{dead}:all";
  }

  public String deadQueueIndexPrefix() {
    return p + ":{dead}:q:";
  }

  public String deadQueueIndex(String queue) {
    return deadQueueIndexPrefix() + queue;
  }

  public String deadCounter() {
    return p + ":{dead}:seq";
  }

  public String deadQueues() {
    return p + ":{dead}:queues";
  }

  public String events() {
    return p + ":{events}";
  }

  public String eventSeq() {
    return p + ":{events}:seq";
  }

  public String workers() {
    return p + ":{workers}";
  }

  /** Hash of schedule name → body (JSON text). */
  public String scheduleBodies() {
    return p + ":{schedules}:bodies";
  }

  /** Hash of schedule name → version. */
  public String scheduleVersions() {
    return p + ":{schedules}:versions";
  }

  /** The last schedule version given out; never reset, so a re-created name gets a new one. */
  public String scheduleSeq() {
    return p + ":{schedules}:seq";
  }

  /** Counts schedule writes and deletes. */
  public String scheduleChanges() {
    return p + ":{schedules}:changes";
  }

  /** Hash of leader group → {@code expiresAt\n} + holder. */
  public String scheduleLeases() {
    return p + ":{schedules}:leases";
  }

  /** The channel each schedule write or delete is announced on, with the new change count. */
  public String scheduleChannel() {
    return p + ":schedule-changes";
  }

  /** The keys of one queue. */
  public record QueueKeys(
      String ready,
      String delayed,
      String leased,
      String body,
      String meta,
      String seq,
      String idempotencyPrefix,
      String wakeChannel,
      String paused) {}
}
