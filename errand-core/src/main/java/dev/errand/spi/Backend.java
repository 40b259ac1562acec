package dev.errand.spi;

/**
 * A storage engine: a broker plus the stores Errand needs, sharing one connection or file. Open one
 * per process and share it between clients and workers; implementations are thread-safe.
 *
 * <p>Every backend passes the contract suite in {@code errand-test} ({@code BackendContractTest});
 * the guarantees are written out in {@code DESIGN.md}.
 */
public interface Backend extends AutoCloseable {

  /** The message broker. */
  Broker broker();

  /** Task states and results. */
  ResultStore results();

  /** The dead letter list. */
  DeadLetterStore deadLetters();

  /** The bounded event log. */
  EventStore events();

  /** Live workers and their heartbeats. */
  WorkerRegistry workers();

  /** A description of where this backend stores its data, with credentials removed. */
  String describe();

  /** Releases connections and files. Idempotent. */
  @Override
  void close();
}
