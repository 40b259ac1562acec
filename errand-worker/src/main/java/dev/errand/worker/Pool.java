package dev.errand.worker;

/** Which threads run task handlers. */
public enum Pool {
  /** Platform threads, one per concurrency slot. Works on every supported JDK. */
  THREADS("threads"),
  /**
   * Virtual threads (JDK 21+): cheap enough for a concurrency of thousands, for tasks that mostly
   * wait on I/O.
   */
  VIRTUAL("virtual");

  private final String label;

  Pool(String label) {
    this.label = label;
  }

  /** The lower-case name used in flags and heartbeats: {@code threads} or {@code virtual}. */
  public String label() {
    return label;
  }

  /** Whether this pool can run on the current JVM. */
  public boolean isAvailable() {
    return this == THREADS || Runtime.version().feature() >= 21;
  }

  /**
   * The pool named {@code label}.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static Pool fromLabel(String label) {
    for (Pool p : values()) {
      if (p.label.equalsIgnoreCase(label)) {
        return p;
      }
    }
    throw new IllegalArgumentException("pool must be threads or virtual but was '" + label + "'");
  }
}
