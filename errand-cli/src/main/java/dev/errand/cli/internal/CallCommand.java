package dev.errand.cli.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
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

  @Option(
      names = "--expires",
      paramLabel = "DURATION",
      description = "Revoke if not started within this long.")
  Duration expires;

  @Option(
      names = {"-k", "--key"},
      paramLabel = "KEY",
      description = "Idempotency key: a second call with it returns the first task's id.")
  String key;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ArrayNode positional = parse("--args", args, ArrayNode.class, "a JSON array like [1, 2]");
    ObjectNode keywords =
        parse("--kwargs", kwargs, ObjectNode.class, "a JSON object like {\"to\": \"a@b.c\"}");
    TaskOptions options = options();
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

  private TaskOptions options() {
    TaskOptions.Builder o = TaskOptions.builder();
    if (queue != null) o.queue(queue);
    if (priority != null) o.priority(priority);
    if (countdown != null) o.countdown(countdown);
    if (eta != null) {
      try {
        o.eta(Instant.parse(eta));
      } catch (DateTimeParseException e) {
        throw new UsageException(
            "--eta '" + eta + "' is not an ISO-8601 instant such as 2026-12-01T09:00:00Z");
      }
    }
    if (expires != null) o.expires(expires);
    if (key != null) o.idempotencyKey(key);
    return o.build();
  }

  private static <T extends JsonNode> T parse(
      String flag, String json, Class<T> type, String expected) {
    if (json == null) {
      return null;
    }
    JsonNode node;
    try {
      node = Wire.mapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new UsageException(flag + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (!type.isInstance(node)) {
      throw new UsageException(flag + " must be " + expected + " but was " + json);
    }
    return type.cast(node);
  }
}
