package dev.errand;

/** The kinds of events, with Celery's names on the wire ({@link #wireName()}). */
public enum EventType {
  TASK_SENT("task-sent"),
  TASK_RECEIVED("task-received"),
  TASK_STARTED("task-started"),
  TASK_PROGRESS("task-progress"),
  TASK_RETRIED("task-retried"),
  TASK_SUCCEEDED("task-succeeded"),
  TASK_FAILED("task-failed"),
  TASK_REVOKED("task-revoked"),
  TASK_DEAD_LETTERED("task-dead-lettered"),
  WORKER_ONLINE("worker-online"),
  WORKER_HEARTBEAT("worker-heartbeat"),
  WORKER_OFFLINE("worker-offline");

  private final String wireName;

  EventType(String wireName) {
    this.wireName = wireName;
  }

  /** The name used on the wire, e.g. {@code task-succeeded}. */
  public String wireName() {
    return wireName;
  }

  /**
   * The type with the given wire name.
   *
   * @throws IllegalArgumentException if there is none
   */
  public static EventType fromWireName(String name) {
    for (EventType t : values()) {
      if (t.wireName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown event type '" + name + "'");
  }
}
