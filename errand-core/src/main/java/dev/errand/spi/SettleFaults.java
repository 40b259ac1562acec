package dev.errand.spi;

/**
 * A test hook every Errand backend implements, so the contract suite can show that {@link
 * Backend#settle} is all or nothing: the next settle call fails after a chosen {@link
 * Settlement.Step}. Not for production use.
 */
public interface SettleFaults {

  /**
   * Makes the next {@link Backend#settle} call of this backend throw a {@link
   * dev.errand.BackendException} once its first settlement has reached {@code step}. Before {@link
   * Settlement.Step#COMMITTED} nothing of the batch is applied; after it everything is, and only
   * the reply is lost (the caller sees the failure and tries again).
   */
  void failNextSettleAfter(Settlement.Step step);
}
