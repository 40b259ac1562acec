package dev.errand.worker.internal;

import dev.errand.Routes;
import dev.errand.TaskOptions;
import dev.errand.worker.TaskRegistry;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the registered tasks whose messages go to a queue the worker does not consume, the mistake
 * behind "my task never runs": {@code emails.send} defined with queue {@code email}, and a worker
 * started on {@code default} only. A task's queue is found as a producer finds it: the first
 * matching route, else its definition's queue. A task that names neither is left alone: its calls
 * often choose the queue themselves, and a queue given on one call, like routes set on a producer's
 * own client, is unknown here.
 */
public final class RoutingCheck {

  private static final Logger log = LoggerFactory.getLogger(RoutingCheck.class);

  private RoutingCheck() {}

  /** One line per task whose queue is not among {@code queues}, in task-name order. */
  public static List<String> problems(TaskRegistry tasks, Routes routes, List<String> queues) {
    List<String> out = new ArrayList<>();
    for (String name : tasks.names()) {
      TaskOptions defined = tasks.find(name).orElseThrow().task().options();
      String queue = routes.queueFor(name).orElse(defined.queue());
      if (queue != null && !queues.contains(queue)) {
        out.add(
            "task "
                + name
                + " routes to queue '"
                + queue
                + "', which this worker does not consume (it consumes "
                + queues
                + "); its messages will wait for another worker");
      }
    }
    return out;
  }

  /** Logs each of {@link #problems} as a warning. */
  public static void warn(TaskRegistry tasks, Routes routes, List<String> queues) {
    for (String problem : problems(tasks, routes, queues)) {
      log.warn(problem);
    }
  }
}
