package dev.errand.internal;

import dev.errand.RateLimit;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.spi.FlowLimit;
import java.util.function.Function;

/** How a call's options become the broker's {@link FlowLimit} and unique key. */
final class FlowControl {

  private FlowControl() {}

  /**
   * The limit of a call of {@code task} with options {@code eff} (definition and call merged), or
   * null when it sets none.
   *
   * @throws IllegalArgumentException when a limit key or burst is set without a limit to apply to
   */
  static FlowLimit limit(String task, TaskOptions eff) {
    RateLimit rate = eff.rateLimit();
    Integer concurrency = eff.concurrencyLimit();
    if (rate == null && concurrency == null) {
      if (eff.limitKey() != null) {
        throw new IllegalArgumentException(
            "task "
                + task
                + " sets limitKey '"
                + eff.limitKey()
                + "' but no rateLimit or concurrencyLimit for it");
      }
      return null;
    }
    if (rate == null && eff.rateBurst() != null) {
      throw new IllegalArgumentException("task " + task + " sets rateBurst without a rateLimit");
    }
    String key = eff.limitKey() != null ? eff.limitKey() : "task:" + task;
    return new FlowLimit(
        key,
        rate == null ? 0 : rate.permits(),
        rate == null ? 0 : rate.period().toMillis(),
        eff.rateBurst() == null ? 1 : eff.rateBurst(),
        concurrency == null ? 0 : concurrency);
  }

  /**
   * {@code call} with the limit and unique keys {@code task} computes from {@code argument}, where
   * neither the call nor the definition sets them itself.
   */
  static <A> TaskOptions keysOf(TaskDef<A, ?> task, A argument, TaskOptions call) {
    String limitKey = keyOf(task.limitKeyFunction(), argument, call.limitKey(), task, "limit");
    String uniqueKey = keyOf(task.uniqueKeyFunction(), argument, call.uniqueKey(), task, "unique");
    if (limitKey == null && uniqueKey == null) {
      return call;
    }
    TaskOptions.Builder b = call.toBuilder();
    if (limitKey != null) b.limitKey(limitKey);
    if (uniqueKey != null) b.uniqueKey(uniqueKey);
    return b.build();
  }

  private static <A> String keyOf(
      Function<A, String> f, A argument, String set, TaskDef<A, ?> task, String what) {
    if (f == null || set != null) {
      return null;
    }
    String key = f.apply(argument);
    if (key == null) {
      throw new IllegalArgumentException(
          "the " + what + " key function of task " + task.name() + " returned null");
    }
    return key;
  }
}
