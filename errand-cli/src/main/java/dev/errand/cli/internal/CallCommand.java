package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code errand call}: sends a task by name and prints its id. */
@Command(
    name = "call",
    mixinStandardHelpOptions = true,
    description = "Send a task by name and print its id.")
final class CallCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Parameters(index = "0", paramLabel = "NAME", description = "Task name, e.g. emails.send.")
  String name;

  @Option(
      names = "--args",
      paramLabel = "JSON",
      description = "Positional arguments, a JSON array.")
  String args;

  @Option(
      names = "--kwargs",
      paramLabel = "JSON",
      description = "Keyword arguments, a JSON object.")
  String kwargs;

  @Option(
      names = {"-q", "--queue"},
      paramLabel = "QUEUE",
      description = "Queue (default: default).")
  String queue;

  @Option(
      names = {"-p", "--priority"},
      paramLabel = "0-9",
      description = "Priority, 9 runs first (default: 5).")
  Integer priority;

  @ArgGroup(exclusive = true)
  When when = new When();

  /** When the task may start: after a countdown or at an instant, not both. */
  static final class When {
    @Option(
        names = "--countdown",
        paramLabel = "DURATION",
        description = "Run no sooner than this from now, e.g. 30s.")
    Duration countdown;

    @Option(
        names = "--eta",
        paramLabel = "ISO",
        description = "Run no sooner than this instant, e.g. 2026-12-01T09:00:00Z.")
    String eta;
  }

  @Option(
      names = "--expires",
      paramLabel = "DURATION",
      description =
          "Revoke if not started within this long after sending (so it must end after"
              + " --countdown or --eta).")
  Duration expires;

  @Option(
      names = {"-k", "--key"},
      paramLabel = "KEY",
      description = "Idempotency key: a second call with it returns the first task's id.")
  String key;

  @Option(
      names = "--rate-limit",
      paramLabel = "RATE",
      description = "Start no faster than RATE (10/s, 30/m, 1000/h), across every worker.")
  String rateLimit;

  @Option(
      names = "--concurrency-limit",
      paramLabel = "N",
      description = "At most N of its limit key running at once, across every worker.")
  Integer concurrencyLimit;

  @Option(
      names = "--limit-key",
      paramLabel = "KEY",
      description = "The key the limits count by (default: task:NAME, every call of the task).")
  String limitKey;

  @Option(
      names = "--unique-key",
      paramLabel = "KEY",
      description = "While a task sent with KEY is queued or running, return it instead.")
  String uniqueKey;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ArrayNode positional = JsonArgument.array("--args", args);
    ObjectNode keywords = JsonArgument.object("--kwargs", kwargs);
    TaskOptions options = options(Instant.now());
    try (Backend b = backend.open()) {
      Client client = Client.builder(b).build();
      AsyncResult<JsonNode> r = client.send(name, positional, keywords, options);
      if (output.json) {
        ObjectNode o = Wire.mapper().createObjectNode();
        o.put("id", r.id());
        o.put("task", name);
        OutputOptions.printJson(spec.commandLine().getOut(), o);
      } else {
        spec.commandLine().getOut().println(r.id());
        spec.commandLine().getOut().flush();
      }
    }
    return 0;
  }

  private TaskOptions options(Instant now) {
    TaskOptions.Builder o = TaskOptions.builder();
    if (queue != null) o.queue(queue);
    if (priority != null) o.priority(priority);
    Instant start = now;
    if (when.countdown != null) {
      o.countdown(Checks.positive("--countdown", when.countdown));
      start = now.plus(when.countdown);
    }
    if (when.eta != null) {
      Instant eta = eta(when.eta);
      o.eta(eta);
      start = eta.isAfter(now) ? eta : now;
    }
    if (expires != null) {
      Checks.positive("--expires", expires);
      // Expiry counts from sending: one that comes before the start would revoke every run.
      if (!now.plus(expires).isAfter(start)) {
        throw new UsageException(
            "--expires "
                + DurationConverter.format(expires)
                + " ends before the task may start ("
                + (when.countdown != null
                    ? "--countdown " + DurationConverter.format(when.countdown)
                    : "--eta " + when.eta)
                + "): it would always expire without running");
      }
      o.expires(expires);
    }
    if (key != null) o.idempotencyKey(key);
    try {
      if (rateLimit != null) o.rateLimit(rateLimit);
      if (concurrencyLimit != null) o.concurrencyLimit(concurrencyLimit);
      if (limitKey != null) o.limitKey(limitKey);
      if (uniqueKey != null) o.uniqueKey(uniqueKey);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (limitKey != null && rateLimit == null && concurrencyLimit == null) {
      throw new UsageException("--limit-key needs --rate-limit or --concurrency-limit");
    }
    return o.build();
  }

  private static Instant eta(String text) {
    Instant eta;
    try {
      eta = Instant.parse(text.strip());
    } catch (DateTimeParseException e) {
      throw new UsageException(
          "--eta '" + text + "' is not an ISO-8601 instant such as 2026-12-01T09:00:00Z");
    }
    return Checks.nearNow("--eta", text, eta);
  }
}
