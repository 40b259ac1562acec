package dev.errand.worker;

/**
 * How a worker consuming several queues chooses which one to claim from first.
 *
 * <p>Each claim asks the broker for up to the worker's free capacity, taking from the first queue
 * in the order this chooses and moving to the next only when it runs dry. With {@link #STRICT}, an
 * earlier queue with a backlog starves the later ones; the other orders rotate which queue goes
 * first, so every queue with a backlog is served.
 */
public enum QueueOrder {
  /**
   * Each claim starts with the next queue in turn: queues with a backlog are served equally. The
   * default, as Celery's workers do on Redis.
   */
  ROUND_ROBIN,

  /** Always in the order given: a later queue is served only when every earlier one is empty. */
  STRICT,

  /**
   * Claims start with each queue in proportion to its weight ({@code critical:5,default:2,low:1}
   * serves critical five claims in eight when all three have a backlog), interleaved smoothly.
   */
  WEIGHTED
}
