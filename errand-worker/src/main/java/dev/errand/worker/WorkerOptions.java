package dev.errand.worker;

import dev.errand.Client;
import dev.errand.TaskOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a worker runs: its queues, concurrency, pool, prefetch, leases and bounds. Immutable and
 * thread-safe; every setter validates eagerly and names the bad value.
 */
public final class WorkerOptions {

  /** Default concurrency: the number of available processors. */
  public static final int DEFAULT_CONCURRENCY = Runtime.getRuntime().availableProcessors();

  /** Default pool: platform threads. */
  public static final Pool DEFAULT_POOL = Pool.THREADS;

  /** Default lease: 30 s, renewed every third of it while a task runs. */
  public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(30);

  /** How long a graceful shutdown waits for running tasks by default: 30 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Default heartbeat interval: 5 s; a worker is gone after 3 missed heartbeats. */
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(5);

  /** Deliveries without an outcome before a message is dead-lettered by default: {@value}. */
  public static final int DEFAULT_MAX_DELIVERIES = 5;

  /** How long states and results are kept by default: 1 day. */
  public static final Duration DEFAULT_RESULT_EXPIRES = Duration.ofDays(1);

  /** How long a task thread above the autoscaling minimum stays idle before it ends: 30 s. */
  public static final Duration DEFAULT_SCALE_DOWN_AFTER = Duration.ofSeconds(30);

  /** Longest wait in one claim call when the queues are empty: 1 s. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

  /** Largest encoded result accepted by default: 1 MiB; a larger one fails the task. */
  public static final int DEFAULT_MAX_RESULT_BYTES = 1024 * 1024;

  /**
   * Largest message body a worker accepts: the client's limit ({@link
   * Client#DEFAULT_MAX_MESSAGE_BYTES}) plus {@link #RETRY_HEADROOM_BYTES} for the retry history the
   * worker itself adds to a message it retries.
   */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = Client.DEFAULT_MAX_MESSAGE_BYTES;

  /** Bytes a worker accepts beyond {@code maxMessageBytes}: the retry history it adds itself. */
  public static final int RETRY_HEADROOM_BYTES = 64 * 1024;

  /**
   * How long a worker may fail to consume — outcome writes failing or blocked, its fetch loop or
   * timer stuck — before it reports itself as not consuming.
   */
  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(10);

  private final String name;
  private final List<String> queues;
  private final QueueOrder queueOrder;
  private final Map<String, Integer> queueWeights;
  private final int concurrency;
  private final int minConcurrency;
  private final Duration scaleDownAfter;
  private final Pool pool;
  private final int prefetch;
  private final Duration leaseDuration;
  private final Duration leaseRenewInterval;
  private final Duration shutdownTimeout;
  private final Duration heartbeatInterval;
  private final int maxDeliveries;
  private final Duration resultExpires;
  private final Duration pollInterval;
  private final int maxResultBytes;
  private final int maxMessageBytes;
  private final Duration stallTimeout;
  private final long maxTasks;

  private WorkerOptions(Builder b) {
    this.name = b.name;
    this.queues = List.copyOf(b.queues);
    this.queueOrder = b.queueOrder;
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (String q : queues) {
      weights.put(q, b.queueWeights.getOrDefault(q, 1));
    }
    this.queueWeights = java.util.Collections.unmodifiableMap(weights);
    this.concurrency = b.concurrency;
    this.minConcurrency = b.minConcurrency > 0 ? b.minConcurrency : b.concurrency;
    this.scaleDownAfter = b.scaleDownAfter;
    this.pool = b.pool;
    this.prefetch = b.prefetch >= 0 ? b.prefetch : this.minConcurrency;
    this.leaseDuration = b.leaseDuration;
    this.leaseRenewInterval =
        b.leaseRenewInterval != null ? b.leaseRenewInterval : b.leaseDuration.dividedBy(3);
    this.shutdownTimeout = b.shutdownTimeout;
    this.heartbeatInterval = b.heartbeatInterval;
    this.maxDeliveries = b.maxDeliveries;
    this.resultExpires = b.resultExpires;
    this.pollInterval = b.pollInterval;
    this.maxResultBytes = b.maxResultBytes;
    this.maxMessageBytes = b.maxMessageBytes;
    this.stallTimeout = b.stallTimeout;
    this.maxTasks = b.maxTasks;
  }

  /** Options with every default. */
  public static WorkerOptions defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.queues = new ArrayList<>(queues);
    for (Map.Entry<String, Integer> e : queueWeights.entrySet()) {
      if (e.getValue() != 1) {
        b.queueWeights.put(e.getKey(), e.getValue());
      }
    }
    // an order that follows from the weights is left to follow from them again
    QueueOrder implied = b.queueWeights.isEmpty() ? QueueOrder.ROUND_ROBIN : QueueOrder.WEIGHTED;
    b.queueOrder = queueOrder == implied ? null : queueOrder;
    b.concurrency = concurrency;
    b.minConcurrency = minConcurrency == concurrency ? 0 : minConcurrency;
    b.scaleDownAfter = scaleDownAfter;
    b.pool = pool;
    b.prefetch = prefetch;
    b.leaseDuration = leaseDuration;
    b.leaseRenewInterval = leaseRenewInterval;
    b.shutdownTimeout = shutdownTimeout;
    b.heartbeatInterval = heartbeatInterval;
    b.maxDeliveries = maxDeliveries;
    b.resultExpires = resultExpires;
    b.pollInterval = pollInterval;
    b.maxResultBytes = maxResultBytes;
    b.maxMessageBytes = maxMessageBytes;
    b.stallTimeout = stallTimeout;
    b.maxTasks = maxTasks;
    return b;
  }

  /** The worker's name, or null to generate {@code errand@host:pid:n}. */
  public String name() {
    return name;
  }

  /** The queues consumed, in the order given; default {@code [default]}. */
  public List<String> queues() {
    return queues;
  }

  /** How claims choose among the queues; default {@link QueueOrder#ROUND_ROBIN}. */
  public QueueOrder queueOrder() {
    return queueOrder;
  }

  /** Each queue's weight, in queue order; 1 unless set (used by {@link QueueOrder#WEIGHTED}). */
  public Map<String, Integer> queueWeights() {
    return queueWeights;
  }

  /** The most tasks run at once (with autoscaling, the maximum). */
  public int concurrency() {
    return concurrency;
  }

  /**
   * The fewest task threads kept when autoscaling; equal to {@link #concurrency()} (no scaling)
   * unless {@link Builder#autoscale} was set.
   */
  public int minConcurrency() {
    return minConcurrency;
  }

  /** Whether the number of task threads moves between {@link #minConcurrency()} and the maximum. */
  public boolean autoscaling() {
    return minConcurrency < concurrency;
  }

  /** How long a task thread above the minimum stays idle before it ends; default 30 s. */
  public Duration scaleDownAfter() {
    return scaleDownAfter;
  }

  /** The pool of threads running handlers. */
  public Pool pool() {
    return pool;
  }

  /** How many messages may wait, leased, beyond the running ones; default the concurrency. */
  public int prefetch() {
    return prefetch;
  }

  /** How long a lease lasts before the broker delivers the message again. */
  public Duration leaseDuration() {
    return leaseDuration;
  }

  /** How often leases of held messages are renewed; default a third of the lease. */
  public Duration leaseRenewInterval() {
    return leaseRenewInterval;
  }

  /** How long a graceful shutdown waits for running tasks. */
  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  /** How often the worker reports itself alive. */
  public Duration heartbeatInterval() {
    return heartbeatInterval;
  }

  /** Deliveries without an outcome before a message is dead-lettered as a crash loop. */
  public int maxDeliveries() {
    return maxDeliveries;
  }

  /** How long states and results are kept. */
  public Duration resultExpires() {
    return resultExpires;
  }

  /** Longest wait in one claim call when the queues are empty. */
  public Duration pollInterval() {
    return pollInterval;
  }

  /** Largest encoded result accepted, in bytes. */
  public int maxResultBytes() {
    return maxResultBytes;
  }

  /** Largest message body accepted (plus {@link #RETRY_HEADROOM_BYTES}). */
  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  /** Messages the worker takes in its life; 0 for no limit. */
  public long maxTasks() {
    return maxTasks;
  }

  /** How long a stall lasts before the worker reports itself as not consuming. */
  public Duration stallTimeout() {
    return stallTimeout;
  }

  @Override
  public String toString() {
    return "WorkerOptions{name="
        + name
        + ", queues="
        + queueWeights
        + ", order="
        + queueOrder
        + ", concurrency="
        + (autoscaling() ? minConcurrency + ".." + concurrency : String.valueOf(concurrency))
        + ", pool="
        + pool.label()
        + ", prefetch="
        + prefetch
        + ", lease="
        + leaseDuration
        + '}';
  }

  /** Builds {@link WorkerOptions}. Not thread-safe. */
  public static final class Builder {
    private String name;
    private List<String> queues = List.of(TaskOptions.DEFAULT_QUEUE);
    private QueueOrder queueOrder;
    private final Map<String, Integer> queueWeights = new LinkedHashMap<>();
    private int concurrency = DEFAULT_CONCURRENCY;
    private int minConcurrency;
    private Duration scaleDownAfter = DEFAULT_SCALE_DOWN_AFTER;
    private Pool pool = DEFAULT_POOL;
    private int prefetch = -1;
    private Duration leaseDuration = DEFAULT_LEASE_DURATION;
    private Duration leaseRenewInterval;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
    private int maxDeliveries = DEFAULT_MAX_DELIVERIES;
    private Duration resultExpires = DEFAULT_RESULT_EXPIRES;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private int maxResultBytes = DEFAULT_MAX_RESULT_BYTES;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
    private Duration stallTimeout = DEFAULT_STALL_TIMEOUT;
    private long maxTasks;

    private Builder() {}

    /** A unique worker name; default {@code errand@host:pid:n}. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank");
      }
      this.name = name;
      return this;
    }

    /** Queues to consume; see {@link #queueOrder} for how claims choose among them. */
    public Builder queues(String... queues) {
      return queues(List.of(queues));
    }

    /** Queues to consume; see {@link #queueOrder} for how claims choose among them. */
    public Builder queues(List<String> queues) {
      if (queues.isEmpty()) {
        throw new IllegalArgumentException("queues must not be empty");
      }
      List<String> checked = new ArrayList<>();
      for (String q : queues) {
        TaskOptions.validQueue(q);
        if (checked.contains(q)) {
          throw new IllegalArgumentException("queue '" + q + "' is listed twice in " + queues);
        }
        checked.add(q);
      }
      this.queues = checked;
      return this;
    }

    /**
     * How claims choose among the queues; default {@link QueueOrder#ROUND_ROBIN}, or {@link
     * QueueOrder#WEIGHTED} once a weight is set.
     */
    public Builder queueOrder(QueueOrder order) {
      this.queueOrder = Objects.requireNonNull(order, "queueOrder");
      return this;
    }

    /**
     * Gives {@code queue} (one of {@link #queues}) a weight, {@code 1..1000}, for {@link
     * QueueOrder#WEIGHTED}; queues without one weigh 1.
     */
    public Builder queueWeight(String queue, int weight) {
      TaskOptions.validQueue(queue);
      if (weight < 1 || weight > 1000) {
        throw new IllegalArgumentException(
            "weight of queue '" + queue + "' must be 1-1000 but was " + weight);
      }
      queueWeights.put(queue, weight);
      return this;
    }

    /** Tasks run at once, {@code > 0}; default the number of processors. Ends autoscaling. */
    public Builder concurrency(int concurrency) {
      if (concurrency <= 0) {
        throw new IllegalArgumentException("concurrency must be > 0 but was " + concurrency);
      }
      this.concurrency = concurrency;
      this.minConcurrency = 0;
      return this;
    }

    /**
     * Runs between {@code min} and {@code max} tasks at once: a thread is added while prefetched
     * tasks wait for one, and a thread above {@code min} ends after {@link #scaleDownAfter} idle
     * (as Celery's {@code --autoscale}). The prefetch defaults to {@code min}.
     */
    public Builder autoscale(int min, int max) {
      if (min <= 0 || max < min) {
        throw new IllegalArgumentException(
            "autoscale needs 0 < min <= max but was " + min + ".." + max);
      }
      this.concurrency = max;
      this.minConcurrency = min;
      return this;
    }

    /** How long a thread above the autoscaling minimum stays idle before it ends; default 30 s. */
    public Builder scaleDownAfter(Duration idle) {
      this.scaleDownAfter = positive("scaleDownAfter", idle);
      return this;
    }

    /** Platform or virtual threads; default platform. Virtual needs JDK 21+. */
    public Builder pool(Pool pool) {
      this.pool = Objects.requireNonNull(pool, "pool");
      return this;
    }

    /** Messages held beyond the running ones, {@code >= 0}; default the concurrency. */
    public Builder prefetch(int prefetch) {
      if (prefetch < 0) {
        throw new IllegalArgumentException("prefetch must be >= 0 but was " + prefetch);
      }
      this.prefetch = prefetch;
      return this;
    }

    /** Lease length, at least 1 s; default 30 s. */
    public Builder leaseDuration(Duration lease) {
      Objects.requireNonNull(lease, "leaseDuration");
      if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("leaseDuration must be >= 1s but was " + lease);
      }
      this.leaseDuration = lease;
      return this;
    }

    /** Renewal interval, {@code > 0} and below the lease; default a third of the lease. */
    public Builder leaseRenewInterval(Duration interval) {
      this.leaseRenewInterval = positive("leaseRenewInterval", interval);
      return this;
    }

    /** How long shutdown waits for running tasks, {@code >= 0}; default 30 s. */
    public Builder shutdownTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "shutdownTimeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("shutdownTimeout must be >= 0 but was " + timeout);
      }
      this.shutdownTimeout = timeout;
      return this;
    }

    /** Heartbeat interval, {@code > 0}; default 5 s. */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = positive("heartbeatInterval", interval);
      return this;
    }

    /** Deliveries without outcome before dead-lettering, {@code > 0}; default 5. */
    public Builder maxDeliveries(int maxDeliveries) {
      if (maxDeliveries <= 0) {
        throw new IllegalArgumentException("maxDeliveries must be > 0 but was " + maxDeliveries);
      }
      this.maxDeliveries = maxDeliveries;
      return this;
    }

    /** How long results are kept, {@code > 0}; default 1 day. */
    public Builder resultExpires(Duration expires) {
      this.resultExpires = positive("resultExpires", expires);
      return this;
    }

    /** Longest wait per claim when idle, {@code > 0}; default 1 s. */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = positive("pollInterval", interval);
      return this;
    }

    /** Largest encoded result, {@code > 0} bytes; default 1 MiB. */
    public Builder maxResultBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxResultBytes must be > 0 but was " + bytes);
      }
      this.maxResultBytes = bytes;
      return this;
    }

    /**
     * Largest message body accepted, {@code > 0} bytes; default 1 MiB (the client's default). Set
     * it to the producers' {@code Client.maxMessageBytes}. Larger messages are dead-lettered as
     * undecodable; {@link #RETRY_HEADROOM_BYTES} more are allowed for the retry history.
     */
    public Builder maxMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxMessageBytes must be > 0 but was " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /**
     * How long outcome writes may fail or block, or the fetch loop or timer stall, before the
     * worker reports itself as not consuming, {@code > 0}; default 10 s.
     */
    public Builder stallTimeout(Duration timeout) {
      this.stallTimeout = positive("stallTimeout", timeout);
      return this;
    }

    /**
     * Messages the worker takes in its life, {@code >= 0}; default 0, no limit. Once it has taken
     * this many it fetches no more and {@link Worker#taskLimitReached()} turns true, so that its
     * supervisor can replace the process ({@code errand worker --max-tasks-per-child}).
     */
    public Builder maxTasks(long maxTasks) {
      if (maxTasks < 0) {
        throw new IllegalArgumentException("maxTasks must be >= 0 but was " + maxTasks);
      }
      this.maxTasks = maxTasks;
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException if the renewal interval is not below the lease
     */
    public WorkerOptions build() {
      for (String q : queueWeights.keySet()) {
        if (!queues.contains(q)) {
          throw new IllegalArgumentException(
              "queue '" + q + "' has a weight but is not among the queues " + queues);
        }
      }
      if (queueOrder == null) {
        queueOrder = queueWeights.isEmpty() ? QueueOrder.ROUND_ROBIN : QueueOrder.WEIGHTED;
      } else if (queueOrder != QueueOrder.WEIGHTED && !queueWeights.isEmpty()) {
        throw new IllegalArgumentException(
            "queue weights " + queueWeights + " need queueOrder WEIGHTED but it is " + queueOrder);
      }
      if (leaseRenewInterval != null && leaseRenewInterval.compareTo(leaseDuration) >= 0) {
        throw new IllegalArgumentException(
            "leaseRenewInterval must be < leaseDuration ("
                + leaseDuration
                + ") but was "
                + leaseRenewInterval);
      }
      return new WorkerOptions(this);
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be > 0 but was " + d);
      }
      return d;
    }
  }
}
