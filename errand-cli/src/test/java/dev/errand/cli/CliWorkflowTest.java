package dev.errand.cli;

import static dev.errand.workflow.Workflows.chord;
import static dev.errand.workflow.Workflows.group;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.cli.internal.ErrandCommand;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import dev.errand.workflow.Chain;
import dev.errand.workflow.GroupResult;
import dev.errand.workflow.Signature;
import dev.errand.workflow.WorkflowState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code errand inspect workflow} and {@code errand revoke --workflow}, run in-process against a
 * named in-memory backend (and once SQLite) with workflows sent by a client and run by a worker.
 */
class CliWorkflowTest {

  static final Duration WAIT = Duration.ofSeconds(10);
  static final TaskOptions NO_RETRY = TaskOptions.builder().retry(RetryPolicy.none()).build();

  static final TaskDef<Integer, Integer> DOUBLE =
      TaskDef.of("math.double", Integer.class, Integer.class);
  static final TaskDef<Integer, Integer> EVEN_ONLY =
      TaskDef.builder("math.even_only", Integer.class, Integer.class).options(NO_RETRY).build();

  @SuppressWarnings({"rawtypes", "unchecked"})
  static final TaskDef<List, Integer> SUM = TaskDef.of("math.sum", List.class, Integer.class);

  String url;
  Backend held;
  Client client;
  final List<Worker> workers = new ArrayList<>();

  record Run(int code, String out, String err) {}

  @BeforeEach
  void open() {
    url = "memory:cli-workflow-" + System.nanoTime();
    held = Backends.open(url); // keeps the named backend alive between commands
    client = Client.create(held);
  }

  @AfterEach
  void close() {
    workers.forEach(w -> w.shutdown(Duration.ofSeconds(2)));
    held.close();
  }

  Run errand(String... args) {
    return errandOn(url, args);
  }

  static Run errandOn(String broker, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--broker", broker));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  static TaskRegistry tasks() {
    return new TaskRegistry()
        .handle(DOUBLE, (x, ctx) -> x * 2)
        .handle(
            EVEN_ONLY,
            (x, ctx) -> {
              if (x % 2 == 1) {
                throw new IllegalStateException("odd: " + x);
              }
              return x;
            })
        .handle(SUM, (list, ctx) -> list.stream().mapToInt(o -> ((Number) o).intValue()).sum());
  }

  void startWorker(Backend on) {
    workers.add(
        Worker.builder(on)
            .tasks(tasks())
            .options(
                WorkerOptions.builder().concurrency(2).pollInterval(Duration.ofMillis(20)).build())
            .build()
            .start());
  }

  /** A chord whose second member fails, with a chain as its callback: it stops at that member. */
  AsyncResult<Integer> failingChord(Client client) {
    AsyncResult<Integer> r =
        client.send(
            chord(
                group(Signature.of(DOUBLE, 1), Signature.of(EVEN_ONLY, 3)),
                Chain.of(Signature.receiving(SUM)).then(DOUBLE)));
    assertThatThrownBy(() -> r.get(WAIT)).hasMessageContaining("ChordFailed");
    return r;
  }

  /** A chain of three whose first step waits an hour, so all three are still to run. */
  AsyncResult<Integer> waitingChain() {
    return client.send(
        Chain.of(
                Signature.of(DOUBLE, 1)
                    .options(TaskOptions.builder().countdown(Duration.ofHours(1)).build()))
            .then(DOUBLE)
            .then(DOUBLE));
  }

  static List<String> lines(String out) {
    return out.lines().toList();
  }

  @Test
  void listsEveryTaskInOrderAndMarksTheOneWhereItStopped() {
    startWorker(held);
    AsyncResult<Integer> r = failingChord(client);
    WorkflowState w = client.workflow(r.id()).orElseThrow();
    String failed = w.steps().get(1).taskId();

    Run run = errand("inspect", "workflow", r.id());

    assertThat(run.code()).as(run.err()).isZero();
    List<String> lines = lines(run.out());
    assertThat(lines.get(0))
        .isEqualTo(
            "workflow " + r.id() + "  stopped at 1.2 math.even_only [" + failed + "]: FAILURE");
    assertThat(lines.get(1)).matches("POS +TASK +ROLE +STATE +ID");
    assertThat(lines.subList(2, 6))
        .satisfiesExactly(
            l -> assertThat(l).matches(row("1.1", "math.double", "member", "SUCCESS", ".+")),
            l ->
                assertThat(l)
                    .matches(
                        row("1.2", "math.even_only", "member", "FAILURE", failed)
                            + " +<- stopped here"),
            l -> assertThat(l).matches(row("2", "math.sum", "callback", "FAILURE", ".+")),
            l -> assertThat(l).matches(row("3", "math.double", "step", "FAILURE", r.id())));
    assertThat(lines.subList(6, lines.size())).containsExactly("4 tasks: 1 SUCCESS, 3 FAILURE");
  }

  static String row(String pos, String task, String role, String state, String id) {
    return Pattern.quote(pos)
        + " +"
        + Pattern.quote(task)
        + " +"
        + role
        + " +"
        + state
        + " +"
        + (id.equals(".+") ? "\\S+" : Pattern.quote(id));
  }

  @Test
  void jsonIsTheWorkflowStateWithEveryTask() throws Exception {
    startWorker(held);
    AsyncResult<Integer> r = failingChord(client);

    Run run = errand("inspect", "workflow", r.id(), "--json");

    assertThat(run.code()).as(run.err()).isZero();
    JsonNode json = Wire.mapper().readTree(run.out());
    WorkflowState w = client.workflow(r.id()).orElseThrow();
    assertThat(Wire.mapper().treeToValue(json, WorkflowState.class)).isEqualTo(w);
    assertThat(json.get("id").asText()).isEqualTo(r.id());
    assertThat(json.get("blockedBy").asText()).isEqualTo(w.steps().get(1).taskId());
    assertThat(json.get("steps").get(1).get("position").asText()).isEqualTo("1.2");
    assertThat(json.get("steps").get(1).get("role").asText()).isEqualTo("MEMBER");
    assertThat(json.get("steps").get(1).get("state").asText()).isEqualTo("FAILURE");
  }

  @Test
  void aWaitingWorkflowNamesTheTaskHoldingItUpAndASucceededOneSaysSo() throws Exception {
    AsyncResult<Integer> waiting = waitingChain();
    String first = client.workflow(waiting.id()).orElseThrow().steps().get(0).taskId();

    Run run = errand("inspect", "workflow", waiting.id());

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(lines(run.out()))
        .first()
        .isEqualTo(
            "workflow " + waiting.id() + "  waiting on 1 math.double [" + first + "]: PENDING");
    assertThat(run.out())
        .containsPattern(row("1", "math.double", "step", "PENDING", first) + " +<- holding it up")
        .contains("3 tasks: 3 PENDING");

    startWorker(held);
    AsyncResult<Integer> done = client.send(Chain.of(Signature.of(DOUBLE, 1)).then(DOUBLE));
    assertThat(done.get(WAIT)).isEqualTo(4);
    Run ok = errand("inspect", "workflow", done.id());
    assertThat(lines(ok.out()).get(0)).isEqualTo("workflow " + done.id() + "  succeeded (2 tasks)");
    assertThat(ok.out()).doesNotContain("<-").contains("2 tasks: 2 SUCCESS");
  }

  @Test
  void aTenThousandMemberChordIsCountedPerStateUnlessAll() {
    List<Signature<Integer>> members = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      members.add(Signature.of(DOUBLE, i));
    }
    AsyncResult<Integer> r = client.send(chord(group(members), SUM));
    // No worker: the states are written as a worker would, 9,990 done, 7 running, one failed.
    List<WorkflowState.Step> steps = client.workflow(r.id()).orElseThrow().steps();
    List<TaskStatus> written = new ArrayList<>();
    for (int i = 0; i < 9_998; i++) {
      TaskState state = i < 9_990 ? TaskState.SUCCESS : i < 9_997 ? TaskState.STARTED : null;
      String id = steps.get(i == 9_997 ? 4_711 : i < 4_711 ? i : i + 1).taskId();
      written.add(status(id, state == null ? TaskState.FAILURE : state));
    }
    held.results().putAll(written, Duration.ofHours(1));
    String failed = steps.get(4_711).taskId();

    Run run = errand("inspect", "workflow", r.id());

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(lines(run.out()))
        .satisfiesExactly(
            l -> assertThat(l).contains("stopped at 1.4712 math.double [" + failed + "]: FAILURE"),
            l -> assertThat(l).matches("POS +TASK +ROLE +STATE +ID"),
            l -> assertThat(l).matches(row("1.*", "math.double", "member", "PENDING", "2 tasks")),
            l -> assertThat(l).matches(row("1.*", "math.double", "member", "STARTED", "7 tasks")),
            l ->
                assertThat(l)
                    .matches(row("1.*", "math.double", "member", "SUCCESS", "9,990 tasks")),
            l -> assertThat(l).matches(row("1.*", "math.double", "member", "FAILURE", "1 task")),
            l ->
                assertThat(l)
                    .matches(
                        row("1.4712", "math.double", "member", "FAILURE", failed)
                            + " +<- stopped here"),
            l -> assertThat(l).matches(row("2", "math.sum", "callback", "PENDING", r.id())),
            l ->
                assertThat(l)
                    .isEqualTo("10,001 tasks: 3 PENDING, 7 STARTED, 9,990 SUCCESS, 1 FAILURE"),
            l ->
                assertThat(l)
                    .isEqualTo(
                        "the group at 1.* (10,000 tasks) is counted per state; --all lists every"
                            + " task"));

    Run each = errand("inspect", "workflow", r.id(), "--all");
    assertThat(each.code()).as(each.err()).isZero();
    // The headline, the heading, every task, the counts.
    assertThat(lines(each.out())).hasSize(1 + 1 + 10_001 + 1);
    assertThat(each.out())
        .containsPattern(row("1.10000", "math.double", "member", "PENDING", ".+"))
        .doesNotContain("counted per state");
  }

  static TaskStatus status(String id, TaskState state) {
    java.time.Instant now = java.time.Instant.now();
    return new TaskStatus(
        id,
        DOUBLE.name(),
        state,
        "default",
        null,
        null,
        null,
        null,
        1,
        "w1",
        now,
        now,
        state.isReady() ? now : null,
        null,
        now);
  }

  @Test
  void anUnknownIdExitsFourAndSaysWhatAWorkflowIdIs() {
    Run unknown = errand("inspect", "workflow", "no-such-workflow");
    assertThat(unknown.code()).isEqualTo(ErrandCommand.NOT_FOUND);
    assertThat(unknown.out()).isEmpty();
    assertThat(unknown.err().lines().findFirst().orElse(""))
        .isEqualTo(
            "error: no workflow with id no-such-workflow is known (a workflow's id is its group's,"
                + " or its last task's as send returned it; a workflow is kept 7d by default)");

    // A plain task's id: the message points at inspect task.
    String task = client.send("math.double", "[1]").id();
    assertThat(errand("inspect", "workflow", task).err())
        .contains("; a task has this id: errand inspect task " + task);

    Run revoke = errand("revoke", "--workflow", "no-such-workflow");
    assertThat(revoke.code()).isEqualTo(ErrandCommand.NOT_FOUND);
    assertThat(revoke.err()).startsWith("error: no workflow with id no-such-workflow is known");
  }

  @Test
  void revokeWorkflowRevokesEveryTaskNotFinishedAndSaysHowMany() {
    AsyncResult<Integer> r = waitingChain();

    Run revoke = errand("revoke", "--workflow", r.id());

    assertThat(revoke.code()).as(revoke.err()).isZero();
    assertThat(revoke.out())
        .isEqualTo(
            "revoked 3 of 3 tasks of workflow "
                + r.id()
                + " (0 had already finished)"
                + System.lineSeparator());
    assertThat(client.workflow(r.id()).orElseThrow().steps())
        .allMatch(s -> s.state() == TaskState.REVOKED);
    assertThat(errand("inspect", "workflow", r.id()).out())
        .contains("stopped at 1 math.double")
        .contains("3 tasks: 3 REVOKED");

    Run again = errand("revoke", "--workflow", r.id());
    assertThat(again.code()).isEqualTo(ErrandCommand.FAILURE);
    assertThat(again.out())
        .contains(
            "workflow "
                + r.id()
                + " has no task left to revoke: every task has finished; nothing revoked");

    Run both = errand("revoke", "--workflow", "--force", r.id());
    assertThat(both.code()).isEqualTo(ErrandCommand.USAGE);
    assertThat(both.err())
        .startsWith(
            "error: --force and --workflow exclude each other: a workflow's tasks are known from"
                + " its record");
  }

  @Test
  void revokeWorkflowLeavesFinishedTasksAlone() throws Exception {
    startWorker(held);
    // Two members run at once; the callback waits on a third member held back for an hour.
    GroupResult<Integer> g =
        client.send(
            group(
                Signature.of(DOUBLE, 1),
                Signature.of(DOUBLE, 2),
                Signature.of(DOUBLE, 3)
                    .options(TaskOptions.builder().countdown(Duration.ofHours(1)).build())));
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> g.completed() == 2);

    Run revoke = errand("revoke", "--workflow", g.id());

    assertThat(revoke.out())
        .startsWith("revoked 1 of 3 tasks of workflow " + g.id() + " (2 had already finished)");
    assertThat(g.failed()).isEqualTo(1);
  }

  @Test
  void inspectsAWorkflowOnSqliteOpenedReadOnly(@TempDir Path dir) {
    String sqlite = "sqlite:" + dir.resolve("errand.db");
    try (Backend db = Backends.open(sqlite)) {
      startWorker(db);
      AsyncResult<Integer> r = failingChord(Client.create(db));
      workers.forEach(w -> w.shutdown(Duration.ofSeconds(2)));
      workers.clear();

      Run run = errandOn(sqlite, "inspect", "workflow", r.id());

      assertThat(run.code()).as(run.err()).isZero();
      assertThat(run.out())
          .contains("stopped at 1.2 math.even_only")
          .contains("4 tasks: 1 SUCCESS, 3 FAILURE");
    }
  }
}
