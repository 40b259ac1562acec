package dev.errand.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommitWatchTest {

  @TempDir Path dir;

  private static void write(Db db, String id) {
    db.tx(
        "write",
        d -> {
          PreparedStatement ps = d.prepare("INSERT INTO revoked (id, expires_at) VALUES (?, ?)");
          ps.setString(1, id);
          ps.setLong(2, Long.MAX_VALUE);
          return ps.executeUpdate();
        });
  }

  @Test
  void announcesCommitsOfAnotherConnectionButNotItsOwn() {
    Path file = dir.resolve("w.db");
    Db mine = new Db(file);
    Db theirs = new Db(file); // another process, as far as SQLite can tell
    AtomicInteger announced = new AtomicInteger();
    CommitWatch watch = new CommitWatch(mine, announced::incrementAndGet);
    try {
      watch.start();
      watch.startWaiting(); // a claim waits
      write(theirs, "a");
      await().atMost(Duration.ofSeconds(10)).until(() -> announced.get() >= 1);

      int before = announced.get();
      write(mine, "b");
      write(mine, "c");
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(10))
          .until(() -> announced.get() == before);

      write(theirs, "d");
      await().atMost(Duration.ofSeconds(10)).until(() -> announced.get() > before);
    } finally {
      watch.close();
      theirs.close();
      mine.close();
    }
  }

  @Test
  void whileNoClaimWaitsItLooksAtNothingAndAClaimThatStartsWaitingIsToldWhatItMissed() {
    Path file = dir.resolve("n.db");
    Db mine = new Db(file);
    Db theirs = new Db(file);
    AtomicInteger announced = new AtomicInteger();
    CommitWatch watch = new CommitWatch(mine, announced::incrementAndGet);
    try {
      watch.start();
      assertThat(watch.startWaiting()).as("the first look").isTrue();
      watch.stopWaiting();

      write(theirs, "a");
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(10))
          .until(() -> announced.get() == 0);

      assertThat(watch.startWaiting()).as("a commit since the last look").isTrue();
      assertThat(watch.startWaiting()).as("nothing since").isFalse();
    } finally {
      watch.close();
      theirs.close();
      mine.close();
    }
  }

  @Test
  void closedItAnnouncesNothing() {
    Path file = dir.resolve("c.db");
    Db mine = new Db(file);
    Db theirs = new Db(file);
    AtomicInteger announced = new AtomicInteger();
    CommitWatch watch = new CommitWatch(mine, announced::incrementAndGet);
    try {
      watch.start();
      watch.startWaiting();
      watch.close();
      watch.start(); // a closed watch stays closed
      write(theirs, "a");
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(10))
          .until(() -> announced.get() == 0);
    } finally {
      theirs.close();
      mine.close();
    }
  }
}
