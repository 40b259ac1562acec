package dev.errand.worker;

import static dev.errand.workflow.Workflows.chain;
import static dev.errand.workflow.Workflows.chord;
import static dev.errand.workflow.Workflows.chunks;
import static dev.errand.workflow.Workflows.group;
import static dev.errand.workflow.Workflows.groupOfChains;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.ChordPolicy;
import dev.errand.DeadLetter;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskFailedException;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.wire.Wire;
import dev.errand.workflow.Chain;
import dev.errand.workflow.FailedTask;
import dev.errand.workflow.GroupResult;
import dev.errand.workflow.Outcome;
import dev.errand.workflow.Signature;
import dev.errand.workflow.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Chains, groups, chords, chunks and callbacks on a real worker over the in-memory backend. */
class WorkflowTest extends WorkerTestSupport {

  record Order(String id, int amount) {}

  record Receipt(String orderId, int charged) {}

  static final RetryPolicy NO_RETRY = RetryPolicy.builder().maxRetries(0).build();

  /** Sums its positional arguments (Celery's {@code add}). */
  static final TaskDef<JsonNode, Integer> ADD =
      TaskDef.of("math.add", JsonNode.class, Integer.class);

  static final TaskDef<Integer, Integer> DOUBLE =
      TaskDef.of("math.double", Integer.class, Integer.class);

  @SuppressWarnings({"rawtypes", "unchecked"})
  static final TaskDef<List, Integer> SUM = TaskDef.of("math.sum", List.class, Integer.class);

  static final TaskDef<Integer, Integer> FAIL_ON_ODD =
      TaskDef.builder("math.even_only", Integer.class, Integer.class)
          .options(TaskOptions.builder().retry(NO_RETRY).build())
          .build();

  static final TaskDef<Order, Receipt> CHARGE =
      TaskDef.of("orders.charge", Order.class, Receipt.class);

  static final TaskDef<Receipt, String> RESERVE =
      TaskDef.of("orders.reserve", Receipt.class, String.class);

  static final TaskDef<String, String> CONFIRM =
      TaskDef.of("orders.confirm", String.class, String.class);

  static final TaskDef<FailedTask, Void> ON_ERROR = TaskDef.of("orders.on_error", FailedTask.class);

  @SuppressWarnings({"rawtypes", "unchecked"})
  static final TaskDef<List, String> REPORT = TaskDef.of("chord.report", List.class, String.class);

  final List<String> ran = new CopyOnWriteArrayList<>();
  final List<FailedTask> errors = new CopyOnWriteArrayList<>();
  final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  volatile boolean oddFails = true;

  @BeforeEach
  void worker() {
    startWorker(tasks(), o -> o.concurrency(4));
  }

  TaskRegistry tasks() {
    return new TaskRegistry()
        .handle(
            ADD,
            (args, ctx) -> {
              int sum = 0;
              for (JsonNode n : args) {
                sum += n.asInt();
              }
              ran.add("add" + args);
              return sum;
            })
        .handle(DOUBLE, (x, ctx) -> x * 2)
        .handle(
            SUM,
            (list, ctx) -> {
              runs.computeIfAbsent("sum", k -> new AtomicInteger()).incrementAndGet();
              int sum = 0;
              for (Object o : list) {
                sum += ((Number) o).intValue();
              }
              return sum;
            })
        .handle(
            FAIL_ON_ODD,
            (x, ctx) -> {
              if (x % 2 == 1 && oddFails) {
                throw new IllegalStateException("odd: " + x);
              }
              return x;
            })
        .handle(CHARGE, (o, ctx) -> new Receipt(o.id(), o.amount()))
        .handle(RESERVE, (r, ctx) -> "reserved " + r.orderId())
        .handle(CONFIRM, (s, ctx) -> s + ", confirmed")
        .handleVoid(ON_ERROR, (f, ctx) -> errors.add(f))
        .handle(
            REPORT,
            (list, ctx) -> {
              runs.computeIfAbsent("report", k -> new AtomicInteger()).incrementAndGet();
              return "report of " + list.size() + ": " + Wire.mapper().valueToTree(list);
            });
  }

  /**
   * Asserts that the handler counted under {@code name} ran once and will not run again: a second
   * firing of the chord would have queued its callback before the first run was stored, so once the
   * queue is empty (nothing ready, leased or delayed) the count is final.
   */
  void assertRanOnce(String name) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              var q = backend.broker().stats("default");
              return q.ready() + q.leased() + q.delayed() == 0;
            });
    assertThat(runs.get(name)).hasValue(1);
  }

  static JsonNode json(String text) {
    try {
      return Wire.mapper().readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Test
  void chainPassesEachResultOnTypedAndByName() throws Exception {
    AsyncResult<String> order =
        client.send(
            Chain.of(Signature.of(CHARGE, new Order("o-1", 40))).then(RESERVE).then(CONFIRM));
    assertThat(order.get(WAIT)).isEqualTo("reserved o-1, confirmed");

    // Celery's add chain: add(2, 2) | add(4) | add(8) = 16, the result prepended.
    AsyncResult<Object> sum =
        client.send(
            chain(
                Signature.byName("math.add", json("[2, 2]")),
                Signature.byName("math.add", json("[4]")),
                Signature.byName("math.add", json("[8]"))));
    assertThat(sum.get(WAIT)).isEqualTo(json("16"));
    assertThat(ran).contains("add[2,2]", "add[4,4]", "add[8,8]");
  }

  @Test
  void immutableStepIgnoresThePreviousResult() throws Exception {
    AsyncResult<Object> r =
        client.send(
            chain(
                Signature.of(DOUBLE, 5), Signature.byName("math.add", json("[1, 1]")).immutable()));

    assertThat(r.get(WAIT)).isEqualTo(json("2"));
  }

  @Test
  void resultBoundToANamedParameter() throws Exception {
    record Labelled(int value, String label) {}
    TaskDef<Labelled, String> label = TaskDef.of("text.label", Labelled.class, String.class);
    startWorker(
        new TaskRegistry()
            .handle(DOUBLE, (x, ctx) -> x * 2)
            .handle(label, (l, ctx) -> l.label() + "=" + l.value()),
        o -> o.queues(List.of("named")));
    AsyncResult<String> r =
        client.send(
            Chain.of(Signature.of(DOUBLE, 21).options(TaskOptions.builder().queue("named").build()))
                .then(
                    Signature.of(label, new Labelled(0, "answer"))
                        .resultAs("value")
                        .options(TaskOptions.builder().queue("named").build())));

    assertThat(r.get(WAIT)).isEqualTo("answer=42");
  }

  @Test
  void failedStepStopsTheChainAndFailsItsEndAtOnce() throws Exception {
    AsyncResult<Integer> r =
        client.send(
            Chain.of(Signature.of(DOUBLE, 1))
                .then(Signature.receiving(FAIL_ON_ODD).linkError(Signature.receiving(ON_ERROR)))
                .then(DOUBLE));
    // 1 -> 2 (even, passes) -> 4: make the middle step fail with an odd input instead.
    AsyncResult<Integer> failing =
        client.send(
            Chain.of(Signature.of(FAIL_ON_ODD, 3).linkError(Signature.receiving(ON_ERROR)))
                .then(DOUBLE)
                .then(DOUBLE));

    assertThat(r.get(WAIT)).isEqualTo(4);
    assertThatThrownBy(() -> failing.get(WAIT))
        .isInstanceOf(TaskFailedException.class)
        .hasMessageContaining("ChainStepFailed")
        .hasMessageContaining("math.even_only")
        .hasMessageContaining("odd: 3");
    await().atMost(WAIT).until(() -> errors.size() == 1);
    assertThat(errors.get(0).task()).isEqualTo("math.even_only");
    assertThat(errors.get(0).error().message()).isEqualTo("odd: 3");
    assertThat(backend.deadLetters().list(null, 0, 10)).hasSize(1);
  }

  @Test
  void linkCallbackGetsTheResult() throws Exception {
    AsyncResult<Integer> r =
        client.send(
            Chain.of(Signature.of(DOUBLE, 4).link(Signature.byName("math.add", json("[100]")))));

    assertThat(r.get(WAIT)).isEqualTo(8);
    await().atMost(WAIT).until(() -> ran.contains("add[8,100]"));
  }

  @Test
  void groupResultsInMemberOrderReadableById() throws Exception {
    List<Signature<Integer>> members = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      members.add(Signature.of(DOUBLE, i));
    }
    GroupResult<Integer> g = client.send(group(members));

    assertThat(g.get(WAIT))
        .containsExactlyElementsOf(IntStream.range(0, 20).map(i -> i * 2).boxed().toList());
    assertThat(g.completed()).isEqualTo(20);
    assertThat(g.failed()).isZero();
    assertThat(g.ready()).isTrue();
    GroupResult<JsonNode> again = client.groupResult(g.id()).orElseThrow();
    assertThat(again.ids()).isEqualTo(g.ids());
    assertThat(again.get(WAIT).get(3)).isEqualTo(json("6"));
    assertThat(client.groupResult("no-such-group")).isEmpty();
  }

  @Test
  void groupWithAFailedMemberReportsIt() throws Exception {
    GroupResult<Integer> g =
        client.send(group(Signature.of(FAIL_ON_ODD, 2), Signature.of(FAIL_ON_ODD, 3)));

    assertThatThrownBy(() -> g.get(WAIT)).isInstanceOf(TaskFailedException.class);
    assertThat(g.completed()).isEqualTo(1);
    assertThat(g.failed()).isEqualTo(1);
  }

  @Test
  void chordCallbackRunsOnceWithEveryResultInOrder() throws Exception {
    List<Signature<Integer>> members = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      members.add(Signature.of(DOUBLE, i));
    }
    AsyncResult<Integer> total = client.send(chord(group(members), SUM));

    assertThat(total.get(WAIT)).isEqualTo(2 * (49 * 50 / 2));
    assertRanOnce("sum");
  }

  @Test
  void chordFailsWithTheMembersErrorByDefault() throws Exception {
    AsyncResult<String> r =
        client.send(
            chord(group(Signature.of(FAIL_ON_ODD, 2), Signature.of(FAIL_ON_ODD, 5)), REPORT));

    assertThatThrownBy(() -> r.get(WAIT))
        .isInstanceOf(TaskFailedException.class)
        .hasMessageContaining("ChordFailed")
        .hasMessageContaining("1 of 2 members")
        .hasMessageContaining("odd: 5");
    assertThat(runs).doesNotContainKey("report");
  }

  @Test
  void chordRunsWithFailuresMarkedWhenAskedTo() throws Exception {
    AsyncResult<String> r =
        client.send(
            chord(group(Signature.of(FAIL_ON_ODD, 2), Signature.of(FAIL_ON_ODD, 5)), REPORT)
                .policy(ChordPolicy.RUN_WITH_FAILURES));

    String report = r.get(WAIT);
    assertThat(report).startsWith("report of 2: ");
    List<Outcome<Integer>> outcomes =
        Wire.mapper()
            .convertValue(
                json(report.substring("report of 2: ".length())),
                new com.fasterxml.jackson.core.type.TypeReference<List<Outcome<Integer>>>() {});
    assertThat(outcomes.get(0).value()).isEqualTo(2);
    assertThat(outcomes.get(0).succeeded()).isTrue();
    assertThat(outcomes.get(1).succeeded()).isFalse();
    assertThat(outcomes.get(1).error().message()).isEqualTo("odd: 5");
  }

  @Test
  void failedMemberReDrivenFromTheDeadLettersCompletesTheChordOnce() throws Exception {
    AsyncResult<Integer> r =
        client.send(chord(group(Signature.of(FAIL_ON_ODD, 2), Signature.of(FAIL_ON_ODD, 5)), SUM));
    assertThatThrownBy(() -> r.get(WAIT)).hasMessageContaining("ChordFailed");
    DeadLetter dl = backend.deadLetters().list(null, 0, 10).get(0);

    oddFails = false; // the cause is fixed
    client.deadLetters().redrive(dl.id());

    await().atMost(WAIT).until(() -> r.state() == TaskState.SUCCESS);
    assertThat(r.get(WAIT)).isEqualTo(7);
    assertRanOnce("sum");
  }

  @Test
  void retriedMemberCountsOnce() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    TaskDef<Integer, Integer> flaky =
        TaskDef.builder("math.flaky", Integer.class, Integer.class)
            .options(
                TaskOptions.builder()
                    .retry(
                        RetryPolicy.builder()
                            .maxRetries(3)
                            .backoff(Duration.ofMillis(1))
                            .jitter(false)
                            .build())
                    .build())
            .build();
    startWorker(
        new TaskRegistry()
            .handle(
                flaky,
                (x, ctx) -> {
                  if (attempts.incrementAndGet() < 3) {
                    throw new IllegalStateException("flaky");
                  }
                  return x;
                }),
        o -> o.queues(List.of("flaky")));
    TaskOptions onFlaky = TaskOptions.builder().queue("flaky").build();
    AsyncResult<Integer> r =
        client.send(
            chord(group(Signature.of(flaky, 10).options(onFlaky), Signature.of(DOUBLE, 1)), SUM));

    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              clock.advance(Duration.ofSeconds(1)); // the retry backoff
              return r.state() == TaskState.SUCCESS;
            });
    assertThat(r.get(WAIT)).isEqualTo(12);
    assertThat(runs.get("sum")).hasValue(1);
  }

  @Test
  void chainContainingAGroupIsAChordAndGoesOn() throws Exception {
    AsyncResult<Object> r =
        client.send(
            chain(
                Signature.of(DOUBLE, 1),
                group(
                    Signature.of(DOUBLE, 10).immutable(),
                    Signature.byName("math.add", json("[3]"))),
                Signature.receiving(SUM),
                Signature.of(DOUBLE, 0).immutable(),
                Signature.byName("math.add", json("[1]"))));
    // 1*2=2 -> group: 10*2=20 (immutable), add(2,3)=5 -> sum=25 -> double(0)=0 -> add(0,1)=1
    assertThat(r.get(WAIT)).isEqualTo(json("1"));
    assertThat(ran).contains("add[2,3]", "add[0,1]");
  }

  @Test
  void groupOfChainsAndAChordWhoseCallbackStartsAChain() throws Exception {
    AsyncResult<Integer> r =
        client.send(
            chord(
                groupOfChains(
                    Chain.of(Signature.of(DOUBLE, 1)).then(DOUBLE),
                    Chain.of(Signature.of(DOUBLE, 5)).then(DOUBLE)),
                Chain.of(Signature.receiving(SUM)).then(DOUBLE)));
    // (1*2*2 + 5*2*2) * 2 = 48
    assertThat(r.get(WAIT)).isEqualTo(48);
  }

  @Test
  void failureInsideAChordMemberChainFailsTheChord() throws Exception {
    AsyncResult<Integer> r =
        client.send(
            chord(
                groupOfChains(
                    Chain.of(Signature.of(DOUBLE, 1)).then(DOUBLE),
                    Chain.of(Signature.of(FAIL_ON_ODD, 7)).then(DOUBLE)),
                SUM));

    assertThatThrownBy(() -> r.get(WAIT)).hasMessageContaining("ChordFailed");
  }

  @Test
  void chunksSendAFewMessagesForManyItems() throws Exception {
    List<Integer> items = IntStream.range(0, 1_000).boxed().toList();
    GroupResult<List<Integer>> g = client.send(chunks(DOUBLE, items, 100));

    assertThat(g.size()).isEqualTo(10);
    List<List<Integer>> results = g.get(WAIT);
    List<Integer> flat = new ArrayList<>();
    results.forEach(flat::addAll);
    assertThat(flat).containsExactlyElementsOf(items.stream().map(i -> i * 2).toList());
  }

  @Test
  void starmapByName() throws Exception {
    AsyncResult<Object> r =
        client.send(chain(Workflows.starmap("math.add", List.of(List.of(1, 2), List.of(3, 4)))));

    assertThat(r.get(WAIT)).isEqualTo(List.of(json("3"), json("7")));
  }

  @Test
  void workflowIsReadAsAWholeWithTheTaskHoldingItUp() throws Exception {
    AsyncResult<Integer> r =
        client.send(
            chord(
                    group(Signature.of(DOUBLE, 1), Signature.of(FAIL_ON_ODD, 3)),
                    Chain.of(Signature.receiving(SUM)).then(DOUBLE))
                .policy(ChordPolicy.FAIL));
    assertThatThrownBy(() -> r.get(WAIT)).hasMessageContaining("ChordFailed");

    dev.errand.workflow.WorkflowState w = client.workflow(r.id()).orElseThrow();
    assertThat(w.steps())
        .extracting(s -> s.position() + " " + s.task() + " " + s.role() + " " + s.state())
        .containsExactly(
            "1.1 math.double MEMBER SUCCESS",
            "1.2 math.even_only MEMBER FAILURE",
            "2 math.sum CALLBACK FAILURE",
            "3 math.double STEP FAILURE");
    assertThat(w.blockedBy()).isEqualTo(w.steps().get(1).taskId());
    assertThat(w.stopped()).isTrue();
    assertThat(client.workflow("unknown")).isEmpty();
  }

  @Test
  void revokingAWorkflowRevokesEveryStepNotFinishedIncludingThoseNotSent() throws Exception {
    AsyncResult<Integer> r =
        client.send(
            Chain.of(
                    Signature.of(DOUBLE, 1)
                        .options(TaskOptions.builder().countdown(Duration.ofMinutes(1)).build()))
                .then(DOUBLE)
                .then(DOUBLE));

    assertThat(client.revokeWorkflow(r.id())).isEqualTo(3);
    clock.advance(Duration.ofMinutes(2));

    assertThatThrownBy(() -> r.get(WAIT)).isInstanceOf(dev.errand.TaskRevokedException.class);
    dev.errand.workflow.WorkflowState w = client.workflow(r.id()).orElseThrow();
    assertThat(w.steps()).allMatch(s -> s.state() == TaskState.REVOKED);
    assertThat(client.revokeWorkflow(r.id())).as("nothing left").isZero();
  }

  @Test
  void revokedMemberCountsAsFailed() throws Exception {
    GroupResult<Integer> g = client.send(group(Signature.of(DOUBLE, 1)));
    g.get(WAIT);
    assertThat(g.revoke()).as("nothing left to revoke").isZero();
    assertThat(Collections.nCopies(1, g.completed())).containsExactly(1);
  }
}
