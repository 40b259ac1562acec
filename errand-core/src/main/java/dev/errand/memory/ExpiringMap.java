package dev.errand.memory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A map whose entries expire at an instant. An entry is gone once {@code now >= expiresAt}. Expired
 * entries are dropped when read and by a sweep every so many writes, so memory stays bounded by the
 * live entries without a background thread. Not thread-safe: callers hold their own lock.
 */
final class ExpiringMap<K, V> {

  /** Writes between sweeps at least; a sweep also waits for as many writes as there are entries. */
  static final int MIN_WRITES_BETWEEN_SWEEPS = 1024;

  private record Entry<V>(V value, Instant expiresAt) {}

  private final Map<K, Entry<V>> entries = new HashMap<>();
  private int writesSinceSweep;

  /** Stores {@code value} until {@code expiresAt}, replacing any entry for {@code key}. */
  void put(K key, V value, Instant expiresAt, Instant now) {
    entries.put(key, new Entry<>(value, expiresAt));
    // Sweeping after as many writes as there are entries keeps the cost O(1) per write.
    if (++writesSinceSweep >= Math.max(MIN_WRITES_BETWEEN_SWEEPS, entries.size())) {
      sweep(now);
    }
  }

  /** The live value for {@code key}, or null if there is none or it expired. */
  V get(K key, Instant now) {
    Entry<V> e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (!now.isBefore(e.expiresAt())) {
      entries.remove(key);
      return null;
    }
    return e.value();
  }

  /** Removes {@code key}; returns whether a live entry was removed. */
  boolean remove(K key, Instant now) {
    Entry<V> e = entries.remove(key);
    return e != null && now.isBefore(e.expiresAt());
  }

  /** Every live value, after dropping the expired ones. */
  List<V> values(Instant now) {
    sweep(now);
    List<V> out = new ArrayList<>(entries.size());
    for (Entry<V> e : entries.values()) {
      out.add(e.value());
    }
    return out;
  }

  /** How many entries are held, expired ones not yet dropped included. */
  int size() {
    return entries.size();
  }

  private void sweep(Instant now) {
    entries.values().removeIf(e -> !now.isBefore(e.expiresAt()));
    writesSinceSweep = 0;
  }
}
