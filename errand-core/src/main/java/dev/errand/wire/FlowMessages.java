package dev.errand.wire;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.spi.NewMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the signatures of a workflow into the messages that run them: when a workflow is sent (its
 * first steps, a chord's stored callback) and when a worker settles a step (the next steps,
 * callbacks). Stateless and thread-safe.
 */
public final class FlowMessages {

  private FlowMessages() {}

  /**
   * The message that runs {@code sig} now, followed by {@code rest}.
   *
   * @param previous the previous step's result, passed by the signature's rule when {@code
   *     hasPrevious}
   * @param parentId the task whose outcome sends it (its {@code errand-parent} header), or null
   */
  public static Built message(
      Flow.Sig sig,
      Flow.Rest rest,
      JsonNode previous,
      boolean hasPrevious,
      Instant now,
      String parentId) {
    Arguments.Json json = sig.argumentsWith(previous, hasPrevious);
    Flow flow = rest.into(sig.flow());
    Map<String, String> headers = sig.headers();
    if (parentId != null && !headers.containsKey(CallHistory.PARENT_HEADER)) {
      headers = new LinkedHashMap<>(headers);
      headers.put(CallHistory.PARENT_HEADER, parentId);
    }
    Instant eta = sig.countdownMs() == null ? null : now.plusMillis(sig.countdownMs());
    Instant expires = sig.expiresMs() == null ? null : now.plusMillis(sig.expiresMs());
    TaskMessage m =
        new TaskMessage(
            Wire.versionFor(flow),
            sig.id(),
            sig.task(),
            json.args(),
            json.kwargs(),
            sig.queue(),
            sig.priority(),
            eta,
            expires,
            0,
            now,
            null,
            headers,
            sig.options(),
            flow);
    byte[] body = Wire.encodeMessage(m);
    NewMessage nm = new NewMessage(m.id(), m.queue(), m.priority(), body, eta, null, null);
    return new Built(m, m.options().applyTo(nm));
  }

  /**
   * The messages that start {@code steps}: the first task, or each member's first task when the
   * first step is a group.
   */
  public static List<Built> start(
      Flow.Rest steps, JsonNode previous, boolean hasPrevious, Instant now, String parentId) {
    if (steps.steps().isEmpty()) {
      return List.of();
    }
    Flow.Step first = steps.steps().get(0);
    if (first.sig() != null) {
      return List.of(
          message(first.sig(), steps.afterFirst(), previous, hasPrevious, now, parentId));
    }
    List<Built> out = new ArrayList<>(first.group().members().size());
    for (List<Flow.Sig> member : first.group().members()) {
      out.add(
          message(
              member.get(0),
              Flow.Rest.inline(asSteps(member.subList(1, member.size()))),
              previous,
              hasPrevious,
              now,
              parentId));
    }
    return out;
  }

  /** A chain of tasks as steps. */
  public static List<Flow.Step> asSteps(List<Flow.Sig> sigs) {
    List<Flow.Step> steps = new ArrayList<>(sigs.size());
    for (Flow.Sig s : sigs) {
      steps.add(Flow.Step.of(s));
    }
    return steps;
  }

  /**
   * A message and what it was built from.
   *
   * @param message the decoded form
   * @param newMessage what the broker stores
   */
  public record Built(TaskMessage message, NewMessage newMessage) {}
}
