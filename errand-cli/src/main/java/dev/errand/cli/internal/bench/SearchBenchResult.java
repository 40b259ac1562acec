package dev.errand.cli.internal.bench;

import java.util.List;

/**
 * The figures of one {@code errand bench-search} run (printed as JSON as is).
 *
 * @param rows statuses stored
 * @param fillSeconds how long storing them took
 * @param fillPerSecond statuses stored per second
 * @param filters the figures of each filter, in the order timed
 * @param charts the figures of the dashboard overview's charts, hour and day
 * @param expiredCountMs the first count of everything once every status had expired (a backend that
 *     trims its indexes then does it in this call)
 */
public record SearchBenchResult(
    int rows,
    double fillSeconds,
    double fillPerSecond,
    List<FilterFigures> filters,
    List<ChartFigures> charts,
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

  /**
   * The figures of one overview chart: succeeded and failed tasks per time bucket.
   *
   * @param range hour (60 buckets of a minute) or day (96 of 15 minutes)
   * @param buckets how many buckets
   * @param succeeded SUCCESS statuses in the chart
   * @param failed FAILURE statuses in the chart
   * @param perBucket a {@code count()} per bucket and figure ({@code 2 × buckets} calls), as the
   *     dashboard did before
   * @param byTime one {@code countByTime()} per figure (2 calls)
   */
  public record ChartFigures(
      String range, int buckets, long succeeded, long failed, Timing perBucket, Timing byTime) {}
}
