package dev.errand;

/** Thrown when an encoded message or result is over its size limit; nothing was sent or stored. */
public final class MessageTooLargeException extends ErrandException {
  private static final long serialVersionUID = 1L;

  private final long size;
  private final long limit;

  /**
   * @param what "message" or "result"
   * @param size the encoded size in bytes
   * @param limit the limit in bytes
   */
  public MessageTooLargeException(
      String what, String taskId, String taskName, long size, long limit) {
    super(
        what
            + " of task "
            + taskName
            + " ["
            + taskId
            + "] is "
            + size
            + " bytes, over the limit of "
            + limit
            + " bytes",
        taskId,
        taskName,
        null);
    this.size = size;
    this.limit = limit;
  }

  /** The encoded size in bytes. */
  public long size() {
    return size;
  }

  /** The limit in bytes. */
  public long limit() {
    return limit;
  }
}
