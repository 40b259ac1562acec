package dev.errand.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.BackendException;
import dev.errand.ChordPolicy;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.Settlement.Ending;
import dev.errand.spi.WorkflowStore.Chord;
import dev.errand.test.MutableClock;
import dev.errand.test.TestStatuses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How SQLite applies a batch of settlements: one transaction, every part or none of the whole
 * batch, and a chord part recorded with keyed statements only.
 */
class SettlementsTest {

  private static final Duration TTL = Duration.ofHours(1);
  private static final Duration LEASE = Duration.ofMinutes(1);

  @TempDir Path dir;
  private final MutableClock clock = new MutableClock();
  private Db db;
  private SqliteBroker broker;
  private SqliteResultStore results;
  private SqliteWorkflowStore workflows;
  private Settlements settlements;

  @BeforeEach
  void open() {
    db = new Db(dir.resolve("settle.db"));
    broker = new SqliteBroker(db, clock, () -> {});
    results = new SqliteResultStore(db, clock);
    workflows = new SqliteWorkflowStore(db, clock);
    settlements = new Settlements(db, broker, results, workflows, clock);
  }

  @AfterEach
  void close() {
    broker.close();
    db.close();
  }

  private static NewMessage message(String id, String queue) {
    return new NewMessage(id, queue, 5, id.getBytes(StandardCharsets.UTF_8), null, null, null);
  }

  private List<Delivery> claim(String queue, int max) throws InterruptedException {
    return broker.claim(List.of(queue), max, LEASE, Duration.ZERO);
  }

  private TaskStatus success(String id) {
    return TestStatuses.status(id, "t", TaskState.SUCCESS, "q", clock.instant());
  }

  private Settlement ack(Delivery d, NewMessage... followUps) {
    return new Settlement(d, Ending.ACK, null, List.of(success(d.id())), List.of(followUps), null);
  }

  private DeadLetter deadLetter(String id) {
    return new DeadLetter(
        id,
        "t",
        "q",
        DeadLetterReason.FAILED,
        TaskError.of("Boom", "it broke"),
        null,
        null,
        "{}",
        3,
        null,
        clock.instant());
  }

  private long count(String sql) {
    return db.read(
        "count",
        d -> {
          try (ResultSet rs = d.prepare(sql).executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  @Test
  void aBatchIsOneTransaction() throws Exception {
    List<NewMessage> messages = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      messages.add(message("m" + i, "q"));
    }
    broker.enqueue(messages);
    List<Settlement> batch = new ArrayList<>();
    for (Delivery d : claim("q", 64)) {
      batch.add(ack(d));
    }
    long commits = db.commits();

    assertThat(settlements.settle(batch, TTL, null)).isEmpty();

    assertThat(db.commits() - commits).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM messages")).isZero();
    assertThat(count("SELECT COUNT(*) FROM results WHERE state = 'SUCCESS'")).isEqualTo(64);
  }

  @Test
  void anErrorInOneSettlementRollsBackTheWholeBatchAndLeavesTheConnectionWorking()
      throws Exception {
    broker.enqueue(List.of(message("a", "q"), message("b", "q")));
    List<Delivery> ds = claim("q", 2);
    Delivery a = ds.get(0).id().equals("a") ? ds.get(0) : ds.get(1);
    Delivery b = a == ds.get(0) ? ds.get(1) : ds.get(0);
    // A dead letter SQLite refuses, as a statement-level error (a constraint) would.
    db.tx(
        "poison",
        d -> {
          d.execute(
              "CREATE TRIGGER poison BEFORE INSERT ON dead_letters WHEN NEW.id = 'b'"
                  + " BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
          return null;
        });
    Settlement first = ack(a, message("after-a", "n"));
    Settlement poisoned =
        new Settlement(
            b,
            Ending.ACK,
            deadLetter("b"),
            List.of(success("b")),
            List.of(message("after-b", "n")),
            null);

    assertThatThrownBy(() -> settlements.settle(List.of(first, poisoned), TTL, null))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("poisoned");

    assertThat(results.getAll(List.of("a", "b"))).as("no status of the batch").isEmpty();
    assertThat(count("SELECT COUNT(*) FROM messages WHERE queue = 'n'")).isZero();
    assertThat(broker.renew(List.of(a, b), LEASE)).as("both still leased").isEmpty();

    // The same connection goes on: the first settlement alone lands, then the poisoned one is
    // the caller's to deal with.
    assertThat(settlements.settle(List.of(first), TTL, null)).isEmpty();
    assertThat(results.get("a")).isPresent();
    assertThat(claim("n", 10)).extracting(Delivery::id).containsExactly("after-a");
  }

  @Test
  void aFollowUpWhoseKeyIsHeldIsNotEnqueuedAndOneWhoseIdIsStoredTakesNoKey() throws Exception {
    Duration window = Duration.ofMinutes(10);
    broker.enqueue(
        List.of(
            new NewMessage("holder", "k", 5, new byte[1], null, "key-1", window),
            message("stored", "k"),
            message("job", "q")));
    Delivery job = claim("q", 1).get(0);
    NewMessage duplicate = new NewMessage("dup", "k", 5, new byte[1], null, "key-1", window);
    NewMessage again = new NewMessage("stored", "k", 5, new byte[1], null, "key-2", window);
    NewMessage fresh = new NewMessage("fresh", "k", 5, new byte[1], null, "key-3", window);

    assertThat(settlements.settle(List.of(ack(job, duplicate, again, fresh)), TTL, null)).isEmpty();

    assertThat(claim("k", 10))
        .extracting(Delivery::id)
        .containsExactlyInAnyOrder("holder", "stored", "fresh");
    assertThat(count("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'key-2'")).isZero();
    assertThat(count("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'key-3'")).isEqualTo(1);
  }

  @Test
  void aStoredChordThatExpiredStartsAgainWithThePartsRecordedSince() throws Exception {
    Chord chord = new Chord("c", 2, ChordPolicy.FAIL, message("cb", "callbacks"));
    workflows.putChord(chord, Duration.ofMinutes(5));
    settleMember(0);
    clock.advance(Duration.ofMinutes(6));
    assertThat(workflows.chord("c")).isEmpty();
    settleMember(1); // the chord is gone: kept for the next one with this id

    workflows.putChord(chord, Duration.ofMinutes(5));

    assertThat(workflows.chord("c").orElseThrow().finished()).isEqualTo(1);
    settleMember(0);
    assertThat(workflows.chord("c").orElseThrow().finished()).isEqualTo(2);
    assertThat(claim("callbacks", 10)).extracting(Delivery::id).containsExactly("cb");
  }

  private void settleMember(int index) throws Exception {
    String id = "member-" + index + "-" + System.nanoTime();
    broker.enqueue(List.of(message(id, "members")));
    Delivery d = claim("members", 1).get(0);
    Settlement s =
        new Settlement(
            d, Ending.ACK, null, List.of(success(id)), List.of(), new ChordPart("c", index, false));
    assertThat(settlements.settle(List.of(s), TTL, null)).isEmpty();
  }

  @Test
  void recordingAChordPartLooksUpByKeyOnly() {
    for (String sql :
        List.of(
            SqliteWorkflowStore.CHORD_ROW,
            SqliteWorkflowStore.PART,
            SqliteWorkflowStore.COUNTS,
            SqliteWorkflowStore.CALLBACK)) {
      List<String> plan = plan(sql);
      assertThat(plan).as(sql).isNotEmpty().allMatch(step -> step.startsWith("SEARCH "));
    }
  }

  private List<String> plan(String sql) {
    return db.read(
        "plan",
        d -> {
          PreparedStatement ps = d.prepare("EXPLAIN QUERY PLAN " + sql);
          int params = ps.getParameterMetaData().getParameterCount();
          for (int i = 1; i <= params; i++) {
            ps.setString(i, "x");
          }
          List<String> details = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              details.add(rs.getString("detail"));
            }
          }
          return details;
        });
  }

  @Test
  void getAllAsksInChunksOfAFewSizes() {
    assertThat(SqliteResultStore.inSlots(1)).isEqualTo(1);
    assertThat(SqliteResultStore.inSlots(2)).isEqualTo(2);
    assertThat(SqliteResultStore.inSlots(3)).isEqualTo(4);
    assertThat(SqliteResultStore.inSlots(64)).isEqualTo(64);
    assertThat(SqliteResultStore.inSlots(65)).isEqualTo(128);
    assertThat(SqliteResultStore.inSlots(300)).isEqualTo(500);
    assertThat(SqliteResultStore.inSlots(500)).isEqualTo(500);
  }

  @Test
  void getAllLeavesOutExpiredStatusesAndAnswersInTheOrderAsked() {
    results.putAll(List.of(success("old")), Duration.ofMinutes(1));
    clock.advance(Duration.ofMinutes(2));
    results.putAll(List.of(success("a"), success("b"), success("c")), TTL);

    assertThat(results.getAll(List.of("c", "old", "a", "missing", "c", "b")).keySet())
        .containsExactly("c", "a", "b");
  }
}
