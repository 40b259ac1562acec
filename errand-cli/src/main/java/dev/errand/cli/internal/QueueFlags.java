package dev.errand.cli.internal;

import dev.errand.worker.QueueOrder;
import dev.errand.worker.WorkerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code -Q NAME[:WEIGHT],...} and {@code --queue-order}, read into {@link WorkerOptions}. */
final class QueueFlags {

  /** A trailing {@code :digits} is a weight; anything else is part of the queue name. */
  private static final Pattern WEIGHTED = Pattern.compile("(.+):(\\d+)");

  private QueueFlags() {}

  static void apply(WorkerOptions.Builder o, List<String> entries, String order) {
    List<String> names = new ArrayList<>();
    for (String entry : entries) {
      Matcher m = WEIGHTED.matcher(entry);
      String name = m.matches() ? m.group(1) : entry;
      if (names.contains(name)) {
        throw new UsageException("-Q lists queue '" + name + "' twice");
      }
      names.add(name);
      if (m.matches()) {
        int weight;
        try {
          weight = Integer.parseInt(m.group(2));
        } catch (NumberFormatException e) {
          weight = -1;
        }
        if (weight < 1 || weight > 1000) {
          throw new UsageException(
              "-Q weight of queue '" + name + "' must be 1-1000 but was '" + m.group(2) + "'");
        }
        o.queueWeight(name, weight);
      }
    }
    try {
      o.queues(names);
    } catch (IllegalArgumentException e) {
      throw new UsageException("-Q: " + e.getMessage());
    }
    if (order != null) {
      QueueOrder parsed = parseOrder(order);
      boolean weighted = entries.stream().anyMatch(e -> WEIGHTED.matcher(e).matches());
      if (weighted && parsed != QueueOrder.WEIGHTED) {
        throw new UsageException(
            "--queue-order "
                + order
                + " cannot be used with -Q weights; drop the :WEIGHT or the flag");
      }
      o.queueOrder(parsed);
    }
  }

  private static QueueOrder parseOrder(String order) {
    return switch (order.toLowerCase(Locale.ROOT)) {
      case "round-robin", "roundrobin", "rr" -> QueueOrder.ROUND_ROBIN;
      case "strict" -> QueueOrder.STRICT;
      case "weighted" -> QueueOrder.WEIGHTED;
      default ->
          throw new UsageException(
              "--queue-order must be round-robin, strict or weighted but was '" + order + "'");
    };
  }

  /**
   * The queues as the start-up banner shows them: {@code critical:5, default:2, low:1 (weighted)}.
   */
  static String describe(WorkerOptions options) {
    List<String> parts = new ArrayList<>();
    for (Map.Entry<String, Integer> e : options.queueWeights().entrySet()) {
      parts.add(
          options.queueOrder() == QueueOrder.WEIGHTED
              ? e.getKey() + ":" + e.getValue()
              : e.getKey());
    }
    String order =
        options.queues().size() == 1
            ? ""
            : " (" + options.queueOrder().name().toLowerCase(Locale.ROOT).replace('_', '-') + ")";
    return String.join(", ", parts) + order;
  }
}
