package dev.errand.cli.internal.bench;

import java.util.List;

/**
 * The figures of one {@code errand bench-search} run (printed as JSON as is).
 *
 * @param rows statuses stored
 * @param fillSeconds how long storing them took
 * @param fillPerSecond statuses stored per second
 * @param filters the figures of each filter, in the order timed
 * @param expiredCountMs the first count of everything once every status had expired (a backend that
 *     trims its indexes then does it in this call)
 */
public record SearchBenchResult(
    int rows,
    double fillSeconds,
    double fillPerSecond,
    List<FilterFigures> filters,
    double expiredCountMs) {

  /**
   * Median and slowest of the repeated runs of one call.
   *
   * @param medianMs the median, milliseconds
   * @param maxMs the slowest, milliseconds (often the first run)
   */
  public record Timing(double medianMs, double maxMs) {}

  /**
   * The figures of one filter.
   *
   * @param filter its short name
   * @param query what it selects
   * @param matches how many statuses match (what {@code count} returned, checked against the rows)
   * @param firstPage the first page
   * @param deepAt how many matches precede the deep page (0: there is none, the matches fit in a
   *     page)
   * @param deepPage the page {@code deepAt} matches in, reached by the cursor; null when {@code
   *     deepAt} is 0
   * @param count {@code count()} with the filter
   */
  public record FilterFigures(
      String filter,
      String query,
      long matches,
      Timing firstPage,
      long deepAt,
      Timing deepPage,
      Timing count) {}
}
