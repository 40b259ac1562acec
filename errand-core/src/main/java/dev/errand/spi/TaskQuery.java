package dev.errand.spi;

import dev.errand.TaskState;
import java.time.Instant;
import java.util.Objects;

/**
 * Which stored task statuses {@link ResultStore#search} returns: every filter given must match
 * (names, states, queues and parents exactly; {@code updatedAt} within {@code [from, to)}), newest
 * first by {@code updatedAt} (in milliseconds), then by id descending; a page starts after the
 * cursor of the previous one. Build with {@link #builder()}.
 *
 * @param name task name, or null for any
 * @param state state, or null for any
 * @param queue queue, or null for any
 * @param parentId the id of the task that sent them, or null for any
 * @param from only statuses updated at or after this, or null
 * @param to only statuses updated before this, or null
 * @param after the {@link TaskPage#next()} of the previous page, or null for the first page
 * @param limit the most statuses in a page, 1 to {@value #MAX_LIMIT}
 */
public record TaskQuery(
    String name,
    TaskState state,
    String queue,
    String parentId,
    Instant from,
    Instant to,
    String after,
    int limit) {

  /** The page size unless another is given: {@value}. */
  public static final int DEFAULT_LIMIT = 50;

  /** The largest page: {@value}. */
  public static final int MAX_LIMIT = 1000;

  public TaskQuery {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_LIMIT + " but was " + limit);
    }
    if (after != null) {
      Cursor.parse(after);
    }
  }

  /** A builder matching everything, {@value #DEFAULT_LIMIT} to a page. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this query's values. */
  public Builder toBuilder() {
    return new Builder()
        .name(name)
        .state(state)
        .queue(queue)
        .parentId(parentId)
        .from(from)
        .to(to)
        .after(after)
        .limit(limit);
  }

  /** Whether {@code s} matches the filters (not the cursor). For backends that filter in code. */
  public boolean matches(dev.errand.TaskStatus s) {
    long updated = Cursor.millis(s);
    return (name == null || name.equals(s.name()))
        && (state == null || state == s.state())
        && (queue == null || queue.equals(s.queue()))
        && (parentId == null || parentId.equals(s.parentId()))
        && (from == null || updated >= from.toEpochMilli())
        && (to == null || updated < to.toEpochMilli());
  }

  /**
   * A position in the order of a search: {@code updatedAt} in epoch milliseconds and the id of the
   * last status of a page. Its text form is {@code <millis>:<id>}.
   *
   * @param millis {@code updatedAt} of the last status, in epoch milliseconds
   * @param id its id
   */
  public record Cursor(long millis, String id) {

    public Cursor {
      Objects.requireNonNull(id, "id");
    }

    /** The cursor just after {@code s}. */
    public static Cursor after(dev.errand.TaskStatus s) {
      return new Cursor(millis(s), s.id());
    }

    /** The {@code updatedAt} of {@code s} in epoch milliseconds; 0 when it has none. */
    public static long millis(dev.errand.TaskStatus s) {
      return s.updatedAt() == null ? 0 : s.updatedAt().toEpochMilli();
    }

    /**
     * Parses the text form.
     *
     * @throws IllegalArgumentException if it is not {@code <millis>:<id>}
     */
    public static Cursor parse(String text) {
      int colon = text.indexOf(':');
      try {
        if (colon > 0 && colon < text.length() - 1) {
          return new Cursor(Long.parseLong(text.substring(0, colon)), text.substring(colon + 1));
        }
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
      throw new IllegalArgumentException("cursor must be <millis>:<id> but was '" + text + "'");
    }

    /** Whether a status at {@code (millis, id)} comes after this cursor in the search order. */
    public boolean isBefore(long millis, String id) {
      return millis < this.millis || (millis == this.millis && id.compareTo(this.id) < 0);
    }

    @Override
    public String toString() {
      return millis + ":" + id;
    }
  }

  /** Builds a {@link TaskQuery}. Not thread-safe. */
  public static final class Builder {
    private String name;
    private TaskState state;
    private String queue;
    private String parentId;
    private Instant from;
    private Instant to;
    private String after;
    private int limit = DEFAULT_LIMIT;

    private Builder() {}

    /** Only this task name; null for any. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Only this state; null for any. */
    public Builder state(TaskState state) {
      this.state = state;
      return this;
    }

    /** Only this queue; null for any. */
    public Builder queue(String queue) {
      this.queue = queue;
      return this;
    }

    /** Only tasks sent by this one; null for any. */
    public Builder parentId(String parentId) {
      this.parentId = parentId;
      return this;
    }

    /** Only statuses updated at or after this; null for no bound. */
    public Builder from(Instant from) {
      this.from = from;
      return this;
    }

    /** Only statuses updated before this; null for no bound. */
    public Builder to(Instant to) {
      this.to = to;
      return this;
    }

    /** Start after this cursor ({@link TaskPage#next()}); null for the first page. */
    public Builder after(String cursor) {
      this.after = cursor;
      return this;
    }

    /** The page size, 1 to {@value #MAX_LIMIT}; default {@value #DEFAULT_LIMIT}. */
    public Builder limit(int limit) {
      this.limit = limit;
      return this;
    }

    /**
     * Builds the query.
     *
     * @throws IllegalArgumentException if the limit or the cursor is invalid
     */
    public TaskQuery build() {
      return new TaskQuery(name, state, queue, parentId, from, to, after, limit);
    }
  }
}
