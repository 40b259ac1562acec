package dev.errand;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Routing rules from task names to queues: glob patterns evaluated in order, first match wins.
 * {@code *} matches any run of characters (dots included) and {@code ?} one character; so {@code
 * emails.*} routes {@code emails.send} and {@code emails.digest.weekly} to the same queue.
 * Immutable and thread-safe.
 *
 * <pre>{@code
 * Routes routes = Routes.builder().route("emails.*", "email").route("reports.*", "slow").build();
 * }</pre>
 */
public final class Routes {

  private static final Routes NONE = builder().build();

  private final List<Rule> rules;

  private Routes(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** No rules: every task goes to its own or the default queue. */
  public static Routes none() {
    return NONE;
  }

  /** A builder with no rules. */
  public static Builder builder() {
    return new Builder();
  }

  /** The queue of the first rule matching {@code taskName}, if any. */
  public Optional<String> queueFor(String taskName) {
    for (Rule rule : rules) {
      if (rule.regex.matcher(taskName).matches()) {
        return Optional.of(rule.queue);
      }
    }
    return Optional.empty();
  }

  /** The rules in evaluation order, as (glob, queue) pairs. */
  public List<Rule> rules() {
    return rules;
  }

  @Override
  public String toString() {
    return "Routes" + rules;
  }

  /**
   * One routing rule.
   *
   * @param glob the task name pattern
   * @param queue the queue it routes to
   * @param regex the compiled pattern
   */
  public record Rule(String glob, String queue, Pattern regex) {
    public Rule {
      Objects.requireNonNull(glob, "glob");
      Objects.requireNonNull(queue, "queue");
      Objects.requireNonNull(regex, "regex");
    }

    @Override
    public String toString() {
      return glob + " -> " + queue;
    }
  }

  /** Builds {@link Routes}. Not thread-safe. */
  public static final class Builder {
    private final List<Rule> rules = new ArrayList<>();

    private Builder() {}

    /** Adds a rule after the existing ones. */
    public Builder route(String glob, String queue) {
      Objects.requireNonNull(glob, "glob");
      if (glob.isBlank()) {
        throw new IllegalArgumentException("route pattern must not be blank");
      }
      rules.add(new Rule(glob, TaskOptions.validQueue(queue), compile(glob)));
      return this;
    }

    /** Builds the rules. */
    public Routes build() {
      return new Routes(rules);
    }

    private static Pattern compile(String glob) {
      StringBuilder re = new StringBuilder();
      for (char c : glob.toCharArray()) {
        switch (c) {
          case '*' -> re.append(".*");
          case '?' -> re.append('.');
          default -> re.append(Pattern.quote(String.valueOf(c)));
        }
      }
      return Pattern.compile(re.toString());
    }
  }
}
