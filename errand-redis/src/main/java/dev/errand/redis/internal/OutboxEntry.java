package dev.errand.redis.internal;

import dev.errand.DeadLetter;
import dev.errand.TaskStatus;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.wire.Wire;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a settlement outside its queue's hash slot (Redis Cluster): dead letter, statuses,
 * follow-ups and chord part, with the ttl of the statuses. {@link SlotSettler} writes it into the
 * queue's outbox in the same script call as the delivery's ending, then applies it slot by slot; a
 * process that finds an old entry (its writer died) applies it again. A compact binary form
 * (version 1): statuses and the dead letter in their JSON wire form, messages field by field.
 *
 * @param ttlMillis how long the statuses are kept
 * @param deadLetter the dead letter to add, or null
 * @param statuses the statuses to store, in order
 * @param followUps the messages to enqueue (an id already in its queue is skipped)
 * @param chordPart the chord member to record, or null
 */
record OutboxEntry(
    long ttlMillis,
    DeadLetter deadLetter,
    List<TaskStatus> statuses,
    List<NewMessage> followUps,
    Settlement.ChordPart chordPart) {

  private static final int VERSION = 1;

  /** The entry of {@code s}, or null when it has nothing outside its queue. */
  static OutboxEntry of(Settlement s, long ttlMillis) {
    if (s.deadLetter() == null
        && s.statuses().isEmpty()
        && s.followUps().isEmpty()
        && s.chordPart() == null) {
      return null;
    }
    return new OutboxEntry(ttlMillis, s.deadLetter(), s.statuses(), s.followUps(), s.chordPart());
  }

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeLong(ttlMillis);
      writeBytes(out, deadLetter == null ? null : Wire.encodeDeadLetter(deadLetter));
      out.writeInt(statuses.size());
      for (TaskStatus st : statuses) {
        writeBytes(out, Wire.encodeStatus(st));
      }
      out.writeInt(followUps.size());
      for (NewMessage m : followUps) {
        writeMessage(out, m);
      }
      out.writeBoolean(chordPart != null);
      if (chordPart != null) {
        writeText(out, chordPart.chordId());
        out.writeInt(chordPart.index());
        out.writeBoolean(chordPart.failed());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Reads an entry.
   *
   * @throws IllegalArgumentException if {@code data} is not an entry this version wrote
   */
  static OutboxEntry decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalArgumentException("outbox entry of unknown version " + version);
      }
      long ttl = in.readLong();
      byte[] dl = readBytes(in);
      int n = in.readInt();
      List<TaskStatus> statuses = new ArrayList<>(Math.min(n, 64));
      for (int i = 0; i < n; i++) {
        statuses.add(Wire.decodeStatus(readBytes(in)));
      }
      n = in.readInt();
      List<NewMessage> followUps = new ArrayList<>(Math.min(n, 64));
      for (int i = 0; i < n; i++) {
        followUps.add(readMessage(in));
      }
      Settlement.ChordPart part =
          in.readBoolean()
              ? new Settlement.ChordPart(readText(in), in.readInt(), in.readBoolean())
              : null;
      return new OutboxEntry(
          ttl, dl == null ? null : Wire.decodeDeadLetter(dl), statuses, followUps, part);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("undecodable outbox entry: " + e, e);
    }
  }

  private static void writeMessage(DataOutputStream out, NewMessage m) throws IOException {
    writeText(out, m.id());
    writeText(out, m.queue());
    out.writeByte(m.priority());
    writeBytes(out, m.body());
    out.writeLong(m.notBefore() == null ? Long.MIN_VALUE : m.notBefore().toEpochMilli());
    writeText(out, m.idempotencyKey());
    out.writeLong(m.idempotencyWindow() == null ? -1 : m.idempotencyWindow().toMillis());
    FlowLimit l = m.limit();
    out.writeBoolean(l != null);
    if (l != null) {
      writeText(out, l.key());
      out.writeInt(l.permits());
      out.writeLong(l.periodMillis());
      out.writeInt(l.burst());
      out.writeInt(l.concurrency());
    }
    writeText(out, m.uniqueKey());
  }

  private static NewMessage readMessage(DataInputStream in) throws IOException {
    String id = readText(in);
    String queue = readText(in);
    int priority = in.readUnsignedByte();
    byte[] body = readBytes(in);
    long notBefore = in.readLong();
    String key = readText(in);
    long window = in.readLong();
    FlowLimit limit =
        in.readBoolean()
            ? new FlowLimit(readText(in), in.readInt(), in.readLong(), in.readInt(), in.readInt())
            : null;
    String unique = readText(in);
    return new NewMessage(
        id,
        queue,
        priority,
        body,
        notBefore == Long.MIN_VALUE ? null : Instant.ofEpochMilli(notBefore),
        key,
        window < 0 ? null : Duration.ofMillis(window),
        limit,
        unique);
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b == null ? -1 : b.length);
    if (b != null) {
      out.write(b);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    return n < 0 ? null : in.readNBytes(n);
  }

  // Keys and ids can exceed writeUTF's 64 KiB: length-prefixed UTF-8.
  private static void writeText(DataOutputStream out, String s) throws IOException {
    writeBytes(out, s == null ? null : s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static String readText(DataInputStream in) throws IOException {
    byte[] b = readBytes(in);
    return b == null ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8);
  }
}
