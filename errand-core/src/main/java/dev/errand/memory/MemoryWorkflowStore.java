package dev.errand.memory;

import dev.errand.ChordPolicy;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkflowStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** The in-memory {@link WorkflowStore}: groups and chords by id, expiring by the clock. */
final class MemoryWorkflowStore implements WorkflowStore {

  private final Clock clock;
  private final ExpiringMap<String, List<String>> groups = new ExpiringMap<>();
  private final ExpiringMap<String, ChordRecord> chords = new ExpiringMap<>();
  private final ExpiringMap<String, byte[]> steps = new ExpiringMap<>();
  // Parts that arrived before their chord was stored (or after it expired), by chord id.
  private final ExpiringMap<String, ChordRecord> orphanParts = new ExpiringMap<>();

  MemoryWorkflowStore(Clock clock) {
    this.clock = clock;
  }

  /** A chord and its parts: member index → failed. */
  private static final class ChordRecord {
    final Chord chord;
    final Map<Integer, Boolean> parts = new HashMap<>();
    int failed;
    Firing firing = Firing.NOT_YET;

    ChordRecord(Chord chord) {
      this.chord = chord;
    }
  }

  @Override
  public synchronized void putGroup(String groupId, List<String> memberIds, Duration ttl) {
    Objects.requireNonNull(groupId, "groupId");
    List<String> members = List.copyOf(memberIds);
    Instant now = clock.instant();
    groups.put(groupId, members, Durations.plus(now, Durations.requirePositive(ttl, "ttl")), now);
  }

  @Override
  public synchronized Optional<List<String>> group(String groupId) {
    return Optional.ofNullable(groups.get(groupId, clock.instant()));
  }

  @Override
  public synchronized void putSteps(String id, byte[] encoded, Duration ttl) {
    Objects.requireNonNull(id, "id");
    Instant now = clock.instant();
    steps.put(id, encoded.clone(), Durations.plus(now, Durations.requirePositive(ttl, "ttl")), now);
  }

  @Override
  public synchronized Optional<byte[]> steps(String id) {
    byte[] found = steps.get(id, clock.instant());
    return Optional.ofNullable(found == null ? null : found.clone());
  }

  @Override
  public synchronized void putChord(Chord chord, Duration ttl) {
    Objects.requireNonNull(chord, "chord");
    Instant now = clock.instant();
    if (chords.get(chord.id(), now) != null) {
      return;
    }
    ChordRecord r = new ChordRecord(chord);
    ChordRecord early = orphanParts.get(chord.id(), now);
    if (early != null) {
      early.parts.forEach(
          (index, failed) -> {
            if (index < chord.size()) {
              put(r, new Settlement.ChordPart(chord.id(), index, failed));
            }
          });
    }
    chords.put(chord.id(), r, Durations.plus(now, Durations.requirePositive(ttl, "ttl")), now);
  }

  @Override
  public synchronized Optional<ChordState> chord(String chordId) {
    ChordRecord r = chords.get(chordId, clock.instant());
    return r == null
        ? Optional.empty()
        : Optional.of(
            new ChordState(
                chordId, r.chord.size(), r.chord.policy(), r.parts.size(), r.failed, r.firing));
  }

  /**
   * Records a part; returns the callback to enqueue when it completes the chord (see the rule on
   * {@link WorkflowStore}), else null. Part of a settlement: the caller holds the broker's lock.
   */
  synchronized NewMessage record(Settlement.ChordPart part, Duration ttl) {
    Instant now = clock.instant();
    ChordRecord r = chords.get(part.chordId(), now);
    if (r == null) {
      r = orphanParts.get(part.chordId(), now);
      if (r == null) {
        // A placeholder with no chord never fires: it keeps the parts for the chord once stored.
        r = new ChordRecord(null);
        orphanParts.put(part.chordId(), r, Durations.plus(now, ttl), now);
      }
      put(r, part);
      return null;
    }
    if (part.index() >= r.chord.size()) {
      return null; // not a member of this chord: counting it could fire the chord early
    }
    put(r, part);
    if (r.parts.size() < r.chord.size()) {
      return null;
    }
    boolean fire =
        r.firing == Firing.NOT_YET
            || (r.chord.policy() == ChordPolicy.FAIL
                && r.firing == Firing.WITH_FAILURES
                && r.failed == 0);
    if (!fire) {
      return null;
    }
    r.firing = r.failed == 0 ? Firing.ALL_SUCCEEDED : Firing.WITH_FAILURES;
    return r.chord.callback();
  }

  private static void put(ChordRecord r, Settlement.ChordPart part) {
    Boolean before = r.parts.put(part.index(), part.failed());
    r.failed += (part.failed() ? 1 : 0) - (Boolean.TRUE.equals(before) ? 1 : 0);
  }
}
