package dev.errand.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.ChordPolicy;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.WorkflowStore;
import dev.errand.sqlite.internal.Db;
import dev.errand.test.MutableClock;
import dev.errand.test.TestStatuses;
import dev.errand.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by an older Errand are upgraded in place when opened. */
class SchemaUpgradeTest {

  private static final String[] SEARCH_INDEXES = {
    "results_updated", "results_state", "results_name", "results_queue", "results_parent"
  };

  @TempDir Path dir;
  private final MutableClock clock = new MutableClock();

  private static TaskStatus status(String id, String name, TaskState state, String updatedAt) {
    return TestStatuses.status(
        id, name, state, "q-" + name, updatedAt == null ? null : Instant.parse(updatedAt));
  }

  /** Statuses whose updatedAt has every precision the JSON may hold, and none. */
  private static List<TaskStatus> oldStatuses() {
    return List.of(
        status("whole", "a", TaskState.SUCCESS, "2026-03-14T09:28:10Z"),
        status("millis", "a", TaskState.FAILURE, "2026-03-14T09:28:10.900Z"),
        status("micros", "b", TaskState.SUCCESS, "2026-03-14T09:28:10.123456Z"),
        status("nanos", "b", TaskState.STARTED, "2026-03-14T09:28:10.999999999Z"),
        status("before-1970", "c", TaskState.SUCCESS, "1969-12-31T23:59:59.500Z"),
        status("no-time", "c", TaskState.PENDING, null),
        status("child", "d", TaskState.SUCCESS, "2026-03-14T09:28:11.000Z")
            .withCall("parent-1", null, null));
  }

  /** A file laid out as schema version 2 wrote it, holding {@code statuses}. */
  private Path versionTwoFile(List<TaskStatus> statuses) throws Exception {
    Path file = dir.resolve("v2.db");
    SqliteBackend.open(file, clock).close();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      for (String index : SEARCH_INDEXES) {
        s.execute("DROP INDEX " + index);
      }
      for (String column : List.of("name", "state", "queue", "parent_id", "updated_at")) {
        s.execute("ALTER TABLE results DROP COLUMN " + column);
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO results (id, ready, body, expires_at) VALUES (?, ?, ?, ?)")) {
        long expires = clock.millis() + Duration.ofHours(1).toMillis();
        for (TaskStatus st : statuses) {
          ps.setString(1, st.id());
          ps.setInt(2, st.state().isReady() ? 1 : 0);
          ps.setBytes(3, Wire.encodeStatus(st));
          ps.setLong(4, expires);
          ps.executeUpdate();
        }
        // Not JSON at all, and expired: the upgrade must neither fail on it nor show it.
        ps.setString(1, "garbled");
        ps.setInt(2, 0);
        ps.setBytes(3, "not json".getBytes(StandardCharsets.UTF_8));
        ps.setLong(4, 0);
        ps.executeUpdate();
      }
      s.execute("PRAGMA user_version = 2");
      List<String> columns = new ArrayList<>();
      try (ResultSet rs = s.executeQuery("PRAGMA table_info(results)")) {
        while (rs.next()) {
          columns.add(rs.getString("name"));
        }
      }
      assertThat(columns)
          .as("the version 2 layout")
          .containsExactly("id", "ready", "body", "expires_at");
    }
    return file;
  }

  private static List<String> ids(TaskPage page) {
    return page.tasks().stream().map(TaskStatus::id).toList();
  }

  @Test
  void aVersionTwoFileIsUpgradedAndItsStatusesAreFoundBySearch() throws Exception {
    Path file = versionTwoFile(oldStatuses());

    try (SqliteBackend b = SqliteBackend.open(file, clock)) {
      assertThat(ids(b.results().search(TaskQuery.builder().build())))
          .containsExactly("child", "nanos", "millis", "micros", "whole", "no-time", "before-1970");
      assertThat(ids(b.results().search(TaskQuery.builder().state(TaskState.SUCCESS).build())))
          .containsExactly("child", "micros", "whole", "before-1970");
      assertThat(ids(b.results().search(TaskQuery.builder().name("b").build())))
          .containsExactly("nanos", "micros");
      assertThat(ids(b.results().search(TaskQuery.builder().queue("q-a").build())))
          .containsExactly("millis", "whole");
      assertThat(ids(b.results().search(TaskQuery.builder().parentId("parent-1").build())))
          .containsExactly("child");
      assertThat(b.results().count(TaskQuery.builder().build())).isEqualTo(7);

      // Old and new rows page together, the cursor running through both.
      b.results()
          .put(
              status("new", "a", TaskState.SUCCESS, "2026-03-14T09:28:10.500Z"),
              Duration.ofHours(1));
      TaskPage first = b.results().search(TaskQuery.builder().name("a").limit(2).build());
      assertThat(ids(first)).containsExactly("millis", "new");
      assertThat(ids(b.results().search(TaskQuery.builder().name("a").after(first.next()).build())))
          .containsExactly("whole");
    }

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(Db.SCHEMA_VERSION);
      }
      List<String> indexes = new ArrayList<>();
      try (ResultSet rs = s.executeQuery("PRAGMA index_list(results)")) {
        while (rs.next()) {
          indexes.add(rs.getString("name"));
        }
      }
      assertThat(indexes).contains(SEARCH_INDEXES);
      // The millisecond the upgrade computed in SQL is the one a write computes in Java.
      Map<String, Long> updatedAt = new HashMap<>();
      try (ResultSet rs = s.executeQuery("SELECT id, updated_at FROM results")) {
        while (rs.next()) {
          updatedAt.put(rs.getString(1), rs.getLong(2));
        }
      }
      for (TaskStatus st : oldStatuses()) {
        assertThat(updatedAt.get(st.id())).as(st.id()).isEqualTo(TaskQuery.Cursor.millis(st));
      }
    }
  }

  /** A file laid out as schema version 3 wrote it (no workflow tables), holding one message. */
  private Path versionThreeFile() throws Exception {
    Path file = dir.resolve("v3.db");
    try (SqliteBackend b = SqliteBackend.open(file, clock)) {
      b.broker()
          .enqueue(
              List.of(
                  new NewMessage(
                      "kept", "q", 5, "kept".getBytes(StandardCharsets.UTF_8), null, null, null)));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE workflow_groups");
      s.execute("DROP TABLE chords");
      s.execute("DROP TABLE chord_parts");
      s.execute("PRAGMA user_version = 3");
    }
    assertThat(tables(file)).doesNotContain("workflow_groups", "chords", "chord_parts");
    return file;
  }

  private static List<String> tables(Path file) throws Exception {
    List<String> names = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  @Test
  void aVersionThreeFileGetsTheWorkflowTablesAndKeepsItsMessages() throws Exception {
    Path file = versionThreeFile();
    assertThatThrownBy(() -> SqliteBackend.openReadOnly(file, clock))
        .as("read-only, nothing is upgraded")
        .hasMessageContaining("schema version 3");

    try (SqliteBackend b = SqliteBackend.open(file, clock)) {
      assertThat(b.broker().stats("q").ready()).isEqualTo(1);
      b.workflows().putGroup("g", List.of("a", "b"), Duration.ofHours(1));
      assertThat(b.workflows().group("g")).contains(List.of("a", "b"));
      b.workflows()
          .putChord(
              new WorkflowStore.Chord(
                  "c",
                  1,
                  ChordPolicy.FAIL,
                  new NewMessage("cb", "callbacks", 5, new byte[1], null, null, null)),
              Duration.ofHours(1));
      Delivery d = b.broker().claim(List.of("q"), 1, Duration.ofMinutes(1), Duration.ZERO).get(0);
      b.settle(
          List.of(
              new Settlement(
                  d,
                  Settlement.Ending.ACK,
                  null,
                  List.of(status("kept", "a", TaskState.SUCCESS, "2026-03-14T09:28:10Z")),
                  List.of(),
                  new Settlement.ChordPart("c", 0, false))),
          Duration.ofHours(1));
      assertThat(b.workflows().chord("c").orElseThrow().firing())
          .isEqualTo(WorkflowStore.Firing.ALL_SUCCEEDED);
      assertThat(b.broker().stats("callbacks").ready()).isEqualTo(1);
    }

    assertThat(tables(file)).contains("workflow_groups", "chords", "chord_parts", "paused_queues");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(Db.SCHEMA_VERSION).isEqualTo(5);
    }
    try (SqliteBackend reader = SqliteBackend.openReadOnly(file, clock)) {
      assertThat(reader.workflows().group("g")).contains(List.of("a", "b"));
    }
  }

  @Test
  void twoProcessesOpeningAVersionTwoFileAtOnceBothGetIt() throws Exception {
    Path file = versionTwoFile(oldStatuses());
    CountDownLatch start = new CountDownLatch(1);
    Callable<Long> open =
        () -> {
          start.await();
          try (SqliteBackend b = SqliteBackend.open(file, clock)) {
            return b.results().count(TaskQuery.builder().state(TaskState.SUCCESS).build());
          }
        };
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Long> a = pool.submit(open);
      Future<Long> b = pool.submit(open);
      start.countDown();
      assertThat(a.get(30, TimeUnit.SECONDS)).isEqualTo(4);
      assertThat(b.get(30, TimeUnit.SECONDS)).isEqualTo(4);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aStatusAnOlderErrandWritesAfterTheUpgradeIsFilledAtTheNextOpen() throws Exception {
    Path file = versionTwoFile(List.of());
    SqliteBackend.open(file, clock).close();
    TaskStatus late = status("late", "a", TaskState.SUCCESS, "2026-03-14T09:28:10.250Z");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO results (id, ready, body, expires_at) VALUES (?, 1, ?, ?)")) {
      ps.setString(1, late.id());
      ps.setBytes(2, Wire.encodeStatus(late));
      ps.setLong(3, clock.millis() + Duration.ofHours(1).toMillis());
      ps.executeUpdate();
    }

    try (SqliteBackend b = SqliteBackend.open(file, clock)) {
      TaskPage page = b.results().search(TaskQuery.builder().name("a").build());
      assertThat(ids(page)).containsExactly("late");
      assertThat(b.results().search(TaskQuery.builder().from(late.updatedAt()).build()).tasks())
          .containsExactly(late);
    }
  }
}
