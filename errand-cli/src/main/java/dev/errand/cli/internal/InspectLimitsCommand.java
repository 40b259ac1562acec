package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import dev.errand.spi.LimitStats;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand inspect limits [-q QUEUE]}: the flow-control keys in use. */
@Command(
    name = "limits",
    mixinStandardHelpOptions = true,
    description = {
      "The rate and concurrency limit keys in use: each key's limit, how many of its tasks run,",
      "how many wait on it, and when its rate lets the next one start. Busiest first."
    })
final class InspectLimitsCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Option(
      names = {"-q", "--queue"},
      paramLabel = "QUEUE",
      description = "Only this queue (default: every queue).")
  String queue;

  @Option(
      names = {"-n", "--limit"},
      paramLabel = "N",
      description = "At most N keys per queue (default: 50).")
  int max = 50;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** One row: a key of a queue. */
  private record Row(String queue, LimitStats stats) {}

  @Override
  public Integer call() {
    Checks.positive("--limit", max);
    if (queue != null) {
      TaskOptions.validQueue(queue);
    }
    try (Backend b = backend.openReadOnly()) {
      Instant now = b.clock().instant();
      List<Row> rows = new ArrayList<>();
      for (String q : queue != null ? List.of(queue) : b.broker().queues()) {
        for (LimitStats s : b.broker().limits(q, max)) {
          rows.add(new Row(q, s));
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        ArrayNode json = Wire.mapper().createArrayNode();
        for (Row r : rows) {
          ObjectNode o = json.addObject();
          o.put("queue", r.queue());
          o.put("key", r.stats().limit().key());
          o.put("rate", r.stats().limit().rateText());
          o.put("burst", r.stats().limit().burst());
          o.put("concurrency", r.stats().limit().concurrency());
          o.put("running", r.stats().running());
          o.put("waiting", r.stats().waiting());
          o.set("nextStartAt", Wire.mapper().valueToTree(r.stats().nextStartAt()));
        }
        OutputOptions.printJson(out, json);
        return 0;
      }
      if (rows.isEmpty()) {
        out.println("no limit keys in use in " + b.describe());
        out.flush();
        return 0;
      }
      List<List<String>> table = new ArrayList<>();
      for (Row r : rows) {
        LimitStats s = r.stats();
        String rate = s.limit().rateText();
        table.add(
            List.of(
                OutputOptions.plain(r.queue()),
                OutputOptions.plain(s.limit().key()),
                rate == null
                    ? "-"
                    : rate + (s.limit().burst() > 1 ? " burst " + s.limit().burst() : ""),
                s.limit().concurrency() == 0
                    ? String.valueOf(s.running())
                    : s.running() + "/" + s.limit().concurrency(),
                String.valueOf(s.waiting()),
                nextStart(s.nextStartAt(), now)));
      }
      OutputOptions.printTable(
          InspectCommand.ansi(spec),
          out,
          List.of("QUEUE", "KEY", "RATE", "RUNNING", "WAITING", "NEXT START"),
          table);
      out.flush();
    }
    return 0;
  }

  /** "now", "in 1.2s", or "-" without a rate. */
  static String nextStart(Instant at, Instant now) {
    if (at == null) {
      return "-";
    }
    Duration d = Duration.between(now, at);
    if (d.isNegative() || d.isZero()) {
      return "now";
    }
    return d.toMillis() < 60_000
        ? String.format(java.util.Locale.ROOT, "in %.1fs", d.toMillis() / 1000.0)
        : "in " + OutputOptions.age(now, at);
  }
}
