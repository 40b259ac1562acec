package dev.errand.redis.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.wire.TaskMessage;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Settles a worker's outcomes on a Celery fleet (see {@code CeleryRedisBackend.settle}): dead
 * letters into Errand's store first, then one {@code celery_settle} script for the batch (receipt
 * checks, endings, Celery result records, follow-ups and the canvas of Celery messages), then
 * Errand's copies of the statuses whose settlement was current. Thread-safe.
 */
public final class CelerySettler {

  private static final byte[] EMPTY = new byte[0];

  private final Redis redis;
  private final RedisClock clock;
  private final CeleryUrl url;
  private final CeleryBroker broker;
  private final Backend errand;

  public CelerySettler(
      Redis redis, RedisClock clock, CeleryUrl url, CeleryBroker broker, Backend errand) {
    this.redis = redis;
    this.clock = clock;
    this.url = url;
    this.broker = broker;
    this.errand = errand;
  }

  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    if (batch.isEmpty()) {
      return Set.of();
    }
    List<Settlement> dead = new ArrayList<>();
    for (Settlement s : batch) {
      if (s.deadLetter() != null) {
        dead.add(new Settlement(null, null, s.deadLetter(), List.of(), List.of(), null));
      }
    }
    if (!dead.isEmpty()) {
      errand.settle(dead, ttl);
    }
    Instant now = clock.instant();
    byte[] expires = CeleryBroker.bytes(Long.toString(url.resultExpires().toSeconds()));
    List<byte[]> args = new ArrayList<>(1 + batch.size() * 12);
    args.add(CeleryBroker.bytes(broker.dcPrefix()));
    // Batch positions of the settlements in the script: one without a delivery, a Celery record
    // or a message to send (a RECEIVED status, say) has nothing to do there.
    List<Integer> inScript = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      Settlement s = batch.get(i);
      Delivery d = s.delivery();
      TaskMessage message = d == null ? null : d.decoded();
      List<byte[]> head = new ArrayList<>(5);
      if (d == null) {
        head.add(EMPTY);
        head.add(EMPTY);
        head.add(CeleryBroker.bytes("-"));
        head.add(EMPTY);
        head.add(EMPTY);
      } else {
        head.add(CeleryBroker.bytes(CeleryBroker.tagOf(d.receipt())));
        head.add(CeleryBroker.bytes(CeleryBroker.receiptPart(d.receipt())));
        if (s.ending() instanceof Settlement.Ending.Retry r) {
          byte[][] push = broker.retryPush(d, r.body(), r.notBefore());
          head.add(CeleryBroker.bytes("R"));
          head.add(push[0]);
          head.add(push[1]);
        } else {
          head.add(CeleryBroker.bytes(ending(s.ending())));
          head.add(EMPTY);
          head.add(EMPTY);
        }
      }
      List<byte[]> metas = new ArrayList<>();
      List<byte[][]> pushes = new ArrayList<>();
      String group = message == null ? null : message.headers().get(CeleryWire.GROUP);
      for (TaskStatus status : s.statuses()) {
        ArrayNode children = null;
        List<TaskStatus> records = List.of();
        if (message != null && status.id().equals(message.id())) {
          CeleryCanvas.Next next = CeleryCanvas.after(message, status, url.defaultQueue(), now);
          pushes.addAll(next.pushes());
          children = next.children();
          records = next.records();
        }
        byte[] meta =
            status.state() == TaskState.STARTED && !url.trackStarted()
                ? null // as Celery without task_track_started: Errand's copy has it
                : CeleryMeta.write(
                    status, children, status.id().equals(d == null ? null : d.id()) ? group : null);
        if (meta != null) {
          metas.add(CeleryBroker.bytes(CeleryMeta.key(status.id())));
          metas.add(meta);
          metas.add(expires);
        }
        for (TaskStatus extra : records) {
          metas.add(CeleryBroker.bytes(CeleryMeta.key(extra.id())));
          metas.add(CeleryMeta.write(extra, null, null));
          metas.add(expires);
        }
      }
      for (NewMessage m : s.followUps()) {
        pushes.add(broker.envelope(m, now));
      }
      if (d == null && metas.isEmpty() && pushes.isEmpty()) {
        continue;
      }
      inScript.add(i);
      args.addAll(head);
      args.add(CeleryBroker.bytes(Integer.toString(metas.size() / 3)));
      args.addAll(metas);
      args.add(CeleryBroker.bytes(Integer.toString(pushes.size())));
      for (byte[][] p : pushes) {
        args.add(p[0]);
        args.add(p[1]);
      }
    }
    Set<Integer> stale = new HashSet<>();
    if (!inScript.isEmpty()) {
      List<Object> stalePositions =
          redis.await(
              Script.CELERY_SETTLE.run(
                  redis.async(),
                  ScriptOutputType.MULTI,
                  broker.fixedKeys(),
                  args.toArray(byte[][]::new)),
              "settle");
      for (Object o : stalePositions) {
        stale.add(inScript.get(((Long) o).intValue() - 1));
      }
    }
    List<Settlement> statuses = new ArrayList<>();
    Set<String> staleIds = new HashSet<>();
    for (int i = 0; i < batch.size(); i++) {
      Settlement s = batch.get(i);
      if (stale.contains(i)) {
        staleIds.add(s.taskId());
      } else if (!s.statuses().isEmpty() || s.chordPart() != null) {
        statuses.add(new Settlement(null, null, null, s.statuses(), List.of(), s.chordPart()));
      }
    }
    if (!statuses.isEmpty()) {
      errand.settle(statuses, ttl);
    }
    if (!stale.isEmpty() || batch.stream().anyMatch(s -> !s.followUps().isEmpty())) {
      broker.wakeup();
    }
    return staleIds;
  }

  private static String ending(Settlement.Ending e) {
    if (e instanceof Settlement.Ending.Ack) {
      return "A";
    }
    if (e instanceof Settlement.Ending.Release) {
      return "L";
    }
    return "K";
  }
}
