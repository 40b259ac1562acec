package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.ClusterView;
import dev.errand.Event;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code errand inspect queues | workers | task ID | workflow ID | limits | events}. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description =
        "Look at queues, workers, one task, one workflow, the limits in use, or the event log.",
    subcommands = {
      InspectCommand.Queues.class,
      InspectCommand.Workers.class,
      InspectCommand.Task.class,
      InspectWorkflowCommand.class,
      InspectLimitsCommand.class,
      InspectCommand.Events.class
    })
final class InspectCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "say what to inspect: queues, workers, task ID, workflow ID, limits or events");
  }

  static CommandLine.Help.Ansi ansi(CommandLine.Model.CommandSpec spec) {
    return spec.commandLine().getColorScheme().ansi();
  }

  @Command(
      name = "queues",
      mixinStandardHelpOptions = true,
      description = {
        "Every queue: the broker's, those live workers consume, and those holding dead",
        "letters; ready (per priority), leased, delayed, dead, and the live workers",
        "consuming it (red when messages are ready and none is)."
      })
  static final class Queues implements Callable<Integer> {
    /** How many unconsumed queues the line under the table names; the table shows them all. */
    static final int MAX_QUEUES_NAMED = 10;

    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      try (Backend b = backend.openReadOnly()) {
        ClusterView view = ClusterView.read(b, b.clock());
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          ArrayNode json = Wire.mapper().createArrayNode();
          for (ClusterView.Queue q : view.queues()) {
            ObjectNode o = json.addObject();
            o.put("queue", q.name());
            o.put("ready", q.ready());
            o.put("leased", q.leased());
            o.put("delayed", q.delayed());
            o.set("readyByPriority", Wire.mapper().valueToTree(q.readyByPriority()));
            o.set("oldestReadyAt", Wire.mapper().valueToTree(q.oldestReadyAt()));
            o.put("lagSeconds", q.lag().toSeconds());
            o.put("dead", q.dead());
            o.put("consumers", q.consumers());
            o.put("unconsumed", q.unconsumed());
            o.put("paused", q.paused());
            o.put("limited", q.limited());
            o.put("shards", q.shards());
          }
          OutputOptions.printJson(out, json);
          return 0;
        }
        if (view.queues().isEmpty()) {
          out.println("no queues in " + b.describe());
          out.flush();
          return 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (ClusterView.Queue q : view.queues()) {
          StringBuilder p = new StringBuilder();
          q.readyByPriority()
              .forEach(
                  (k, v) -> p.append(p.length() == 0 ? "" : " ").append(k).append(':').append(v));
          rows.add(
              List.of(
                  q.name()
                      + (q.shards() > 1 ? " (" + q.shards() + " shards)" : "")
                      + (q.paused() ? " @|yellow (paused)|@" : ""),
                  String.valueOf(q.ready()),
                  String.valueOf(q.leased()),
                  String.valueOf(q.delayed()),
                  String.valueOf(q.limited()),
                  q.dead() == 0 ? "0" : "@|red " + q.dead() + "|@",
                  q.unconsumed() ? "@|red 0|@" : String.valueOf(q.consumers()),
                  p.length() == 0 ? "-" : p.toString(),
                  OutputOptions.age(q.oldestReadyAt(), view.readAt())));
        }
        OutputOptions.printTable(
            ansi(spec),
            out,
            List.of(
                "QUEUE",
                "READY",
                "LEASED",
                "DELAYED",
                "LIMITED",
                "DEAD",
                "CONSUMERS",
                "READY BY PRIORITY",
                "OLDEST"),
            rows);
        List<String> unconsumed =
            view.queues().stream()
                .filter(ClusterView.Queue::unconsumed)
                .map(ClusterView.Queue::name)
                .toList();
        if (!unconsumed.isEmpty()) {
          out.println(ansi(spec).string("@|red " + unconsumedLine(unconsumed) + "|@"));
        }
        out.flush();
      }
      return 0;
    }

    /** The line under the table: which queues wait for a worker, and how to start one on them. */
    static String unconsumedLine(List<String> queues) {
      int n = queues.size();
      List<String> named = queues.stream().limit(MAX_QUEUES_NAMED).toList();
      String names = String.join(", ", named) + (n > named.size() ? ", ..." : "");
      return n
          + (n == 1 ? " queue has" : " queues have")
          + " ready messages and no live worker consuming "
          + (n == 1 ? "it" : "them")
          + ": "
          + names
          + "; they wait until a worker consumes "
          + (n == 1 ? "it" : "them")
          + " (errand worker -Q "
          + String.join(",", named)
          + ")";
    }
  }

  @Command(
      name = "workers",
      mixinStandardHelpOptions = true,
      description = "Live workers with heartbeat age and running tasks.")
  static final class Workers implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      try (Backend b = backend.openReadOnly()) {
        ClusterView view = ClusterView.read(b, b.clock());
        List<WorkerInfo> live = view.workers();
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          OutputOptions.printJson(out, live);
          return 0;
        }
        if (live.isEmpty()) {
          out.println("no live workers in " + b.describe());
          out.flush();
          return 0;
        }
        Instant now = view.readAt();
        List<List<String>> rows = new ArrayList<>();
        for (WorkerInfo w : live) {
          rows.add(
              List.of(
                  w.name(),
                  String.join(",", w.queues()),
                  w.concurrency() + " " + w.pool(),
                  OutputOptions.age(w.heartbeatAt(), now),
                  String.valueOf(w.running().size()),
                  String.valueOf(w.processed()),
                  String.valueOf(w.failed()),
                  w.consuming() ? "@|green ok|@" : "@|red NOT CONSUMING|@"));
        }
        OutputOptions.printTable(
            ansi(spec),
            out,
            List.of(
                "WORKER",
                "QUEUES",
                "CONCURRENCY",
                "HEARTBEAT",
                "RUNNING",
                "PROCESSED",
                "FAILED",
                "HEALTH"),
            rows);
        for (WorkerInfo w : live) {
          if (!w.consuming() && w.problem() != null) {
            out.println(
                ansi(spec)
                    .string("  @|red " + w.name() + " is not consuming: " + w.problem() + "|@"));
          }
        }
        for (WorkerInfo w : live) {
          for (WorkerInfo.RunningTask t : w.running()) {
            out.println(
                "  "
                    + w.name()
                    + " running "
                    + t.name()
                    + " ["
                    + t.id()
                    + "] for "
                    + OutputOptions.age(t.startedAt(), now));
          }
        }
        out.flush();
      }
      return 0;
    }
  }

  @Command(
      name = "task",
      mixinStandardHelpOptions = true,
      description = "One task: its status and its events.")
  static final class Task implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      try (Backend b = backend.openReadOnly()) {
        if (!TaskRecords.known(b, id)) {
          throw TaskRecords.unknown(id);
        }
        TaskStatus s = b.results().get(id).orElse(TaskStatus.pending(id));
        List<Event> events = new ArrayList<>();
        for (Event e : b.events().read(0, Integer.MAX_VALUE)) {
          if (id.equals(e.taskId())) {
            events.add(e);
          }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          ObjectNode o = Wire.mapper().createObjectNode();
          o.set("status", Wire.mapper().valueToTree(s));
          o.set("events", Wire.mapper().valueToTree(events));
          OutputOptions.printJson(out, o);
          return 0;
        }
        out.println(ansi(spec).string("@|bold " + id + "|@  " + StateColors.colored(s.state())));
        if (s.name() != null) out.println("task:      " + s.name() + " on queue " + s.queue());
        if (s.worker() != null)
          out.println("worker:    " + s.worker() + ", attempt " + s.attempt());
        if (s.sentAt() != null) out.println("sent:      " + s.sentAt());
        if (s.startedAt() != null) out.println("started:   " + s.startedAt());
        if (s.finishedAt() != null) out.println("finished:  " + s.finishedAt());
        if (s.progress() != null) out.println("progress:  " + s.progress());
        if (s.result() != null) out.println("result:    " + s.result());
        if (s.error() != null)
          out.println(ansi(spec).string("error:     @|red " + s.error() + "|@"));
        b.deadLetters()
            .get(id)
            .ifPresent(
                dl -> out.println(ansi(spec).string("dead letter: @|red " + dl.reason() + "|@")));
        if (!events.isEmpty()) {
          out.println("events:");
          for (Event e : events) {
            out.println(
                "  "
                    + e.time()
                    + "  "
                    + e.type().wireName()
                    + (e.worker() == null ? "" : "  " + e.worker())
                    + (e.data() == null ? "" : "  " + e.data()));
          }
        }
        out.flush();
      }
      return 0;
    }
  }

  @Command(
      name = "events",
      mixinStandardHelpOptions = true,
      description = "The newest events; --follow keeps printing new ones until Ctrl-C.")
  static final class Events implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Option(
        names = {"-f", "--follow"},
        description = "Keep printing new events.")
    boolean follow;

    @Option(
        names = {"-n", "--limit"},
        paramLabel = "N",
        description = "How many recent events (default: 20).")
    int limit = 20;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      if (limit < 0) {
        throw new UsageException("--limit must be >= 0 but was " + limit);
      }
      try (Backend b = backend.openReadOnly()) {
        PrintWriter out = spec.commandLine().getOut();
        List<Event> recent = new ArrayList<>(b.events().latest(limit));
        java.util.Collections.reverse(recent);
        long last = 0;
        for (Event e : recent) {
          print(out, e);
          last = e.seq();
        }
        if (recent.isEmpty()) {
          List<Event> newest = b.events().latest(1);
          last = newest.isEmpty() ? 0 : newest.get(0).seq();
        }
        out.flush();
        while (follow) {
          List<Event> more = b.events().read(last, 500);
          for (Event e : more) {
            print(out, e);
            last = e.seq();
          }
          out.flush();
          if (more.isEmpty()) {
            Thread.sleep(250);
          }
        }
      }
      return 0;
    }

    private void print(PrintWriter out, Event e) {
      if (output.json) {
        out.println(new String(Wire.encodeEvent(e), java.nio.charset.StandardCharsets.UTF_8));
        return;
      }
      StringBuilder line = new StringBuilder();
      line.append(e.time()).append("  ").append(String.format("%-18s", e.type().wireName()));
      if (e.taskName() != null) line.append("  ").append(e.taskName());
      if (e.taskId() != null) line.append(" [").append(e.taskId()).append(']');
      if (e.worker() != null) line.append("  ").append(e.worker());
      if (e.data() != null && !e.data().isEmpty()) line.append("  ").append(e.data());
      out.println(line);
    }
  }
}
