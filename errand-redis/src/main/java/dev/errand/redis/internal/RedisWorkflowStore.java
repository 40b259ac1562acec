package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.number;
import static dev.errand.redis.internal.RedisBroker.text;

import dev.errand.ChordPolicy;
import dev.errand.spi.NewMessage;
import dev.errand.spi.WorkflowStore;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Groups and chords on Redis. A group is a list ({@code PREFIX:group:{ID}}) of its expiry and then
 * its member ids. A chord is a hash of its state and callback message ({@code PREFIX:chord:{ID}})
 * and a hash of its finished members ({@code PREFIX:chord:{ID}:parts}, index → {@code 1} failed or
 * {@code 0} succeeded), both under the chord's hash tag; its parts are recorded, and its callback
 * enqueued, by the settle script ({@link Settler}), one hash field per part, so finishing a member
 * costs the same in a chord of ten or of ten thousand. Expiry is by the backend's clock (each value
 * carries it) and Redis drops the keys at the same time to live. Thread-safe.
 */
public final class RedisWorkflowStore implements WorkflowStore {

  private final java.util.function.Function<NewMessage, String> physicalFor;

  private static final byte[] EMPTY = new byte[0];

  private final Redis redis;
  private final Keys keys;
  private final Clock clock;

  /**
   * @param physicalFor the physical queue (shard) of a message, where a chord's callback is stored
   *     to be enqueued
   */
  public RedisWorkflowStore(
      Redis redis,
      Keys keys,
      Clock clock,
      java.util.function.Function<NewMessage, String> physicalFor) {
    this.physicalFor = physicalFor;
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
  }

  @Override
  public void putGroup(String groupId, List<String> memberIds, Duration ttl) {
    Objects.requireNonNull(groupId, "groupId");
    long ttlMillis = positive(ttl);
    byte[][] args = new byte[2 + memberIds.size()][];
    args[0] = num(ttlMillis);
    args[1] = num(clock.millis() + ttlMillis);
    for (int i = 0; i < memberIds.size(); i++) {
      args[2 + i] = bytes(Objects.requireNonNull(memberIds.get(i), "member id"));
    }
    redis.await(
        Script.GROUP_PUT.run(
            redis.async(), ScriptOutputType.INTEGER, new String[] {keys.group(groupId)}, args),
        "store group " + groupId);
  }

  @Override
  public Optional<List<String>> group(String groupId) {
    List<byte[]> items =
        redis.await(redis.async().lrange(keys.group(groupId), 0, -1), "read group " + groupId);
    if (items.isEmpty() || number(items.get(0)) <= clock.millis()) {
      return Optional.empty();
    }
    List<String> members = new ArrayList<>(items.size() - 1);
    for (int i = 1; i < items.size(); i++) {
      members.add(text(items.get(i)));
    }
    return Optional.of(List.copyOf(members));
  }

  @Override
  public void putSteps(String id, byte[] steps, Duration ttl) {
    Objects.requireNonNull(id, "id");
    long ttlMillis = positive(ttl);
    redis.await(
        redis
            .async()
            .set(
                keys.steps(id),
                Codec.withExpiry(clock.millis() + ttlMillis, steps),
                io.lettuce.core.SetArgs.Builder.px(ttlMillis)),
        "store workflow steps " + id);
  }

  @Override
  public Optional<byte[]> steps(String id) {
    Objects.requireNonNull(id, "id");
    byte[] value = redis.await(redis.async().get(keys.steps(id)), "read workflow steps " + id);
    if (value == null || Codec.expiresAt(value) <= clock.millis()) {
      return Optional.empty();
    }
    return Optional.of(Codec.payload(value));
  }

  @Override
  public void putChord(Chord chord, Duration ttl) {
    Objects.requireNonNull(chord, "chord");
    long ttlMillis = positive(ttl);
    NewMessage cb = chord.callback();
    redis.await(
        Script.CHORD_PUT.run(
            redis.async(),
            ScriptOutputType.INTEGER,
            new String[] {keys.chord(chord.id()), keys.chordParts(chord.id())},
            num(clock.millis()),
            num(ttlMillis),
            num(chord.size()),
            bytes(chord.policy().name()),
            bytes(cb.id()),
            bytes(physicalFor.apply(cb)), // settle.lua enqueues it there
            num(cb.priority()),
            cb.body(),
            num(cb.notBefore() == null ? 0 : cb.notBefore().toEpochMilli()),
            cb.idempotencyKey() == null ? EMPTY : bytes(cb.idempotencyKey()),
            num(cb.idempotencyKey() == null ? 0 : cb.idempotencyWindow().toMillis())),
        "store chord " + chord.id());
  }

  @Override
  public Optional<ChordState> chord(String chordId) {
    List<Object> f =
        redis.await(
            Script.CHORD_READ.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {keys.chord(chordId), keys.chordParts(chordId)}),
            "read chord " + chordId);
    // No chord, one expired by the backend's clock, or a placeholder for early parts (no size).
    if (f.get(0) == null || number(f.get(0)) <= clock.millis() || f.get(1) == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ChordState(
            chordId,
            (int) number(f.get(1)),
            ChordPolicy.valueOf(text(f.get(2))),
            (int) number(f.get(5)),
            (int) number(f.get(3)),
            Firing.valueOf(text(f.get(4)))));
  }

  private static long positive(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    return Math.max(1, ttl.toMillis());
  }
}
