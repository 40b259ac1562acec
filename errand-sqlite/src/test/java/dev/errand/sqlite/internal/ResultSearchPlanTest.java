package dev.errand.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.TaskState;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What SQLite plans for searches and counts ({@code EXPLAIN QUERY PLAN}): each single filter walks
 * its own index in the search order, so no search ever sorts, and a page after a cursor starts the
 * index range at the cursor.
 */
class ResultSearchPlanTest {

  private static final String CURSOR = "1700000000000:task-9";

  @TempDir Path dir;
  private Db db;

  @BeforeEach
  void open() {
    db = new Db(dir.resolve("plan.db"));
  }

  @AfterEach
  void close() {
    db.close();
  }

  private List<String> searchPlan(TaskQuery.Builder query) {
    return plan(ResultSearch.searchSql(query.build(), 0));
  }

  private List<String> plan(ResultSearch.Sql sql) {
    ResultSearch.Sql explain = new ResultSearch.Sql("EXPLAIN QUERY PLAN " + sql.text(), sql.args());
    return db.read(
        "plan",
        d -> {
          List<String> details = new ArrayList<>();
          try (ResultSet rs = explain.prepare(d).executeQuery()) {
            while (rs.next()) {
              details.add(rs.getString("detail"));
            }
          }
          return details;
        });
  }

  private void assertSearchWalks(TaskQuery.Builder query, String index) {
    String plan = String.join("\n", searchPlan(query));
    assertThat(plan).as("plan of %s", query.build()).contains("INDEX " + index + " (");
    assertThat(plan).as("plan of %s", query.build()).doesNotContain("TEMP B-TREE");
    String cursorPlan = String.join("\n", searchPlan(query.after(CURSOR)));
    assertThat(cursorPlan)
        .as("plan of %s", query.build())
        .contains("INDEX " + index + " (")
        .contains("updated_at<?)")
        .doesNotContain("TEMP B-TREE");
  }

  @Test
  void everySingleFilterWalksItsOwnIndexWithoutSorting() {
    assertSearchWalks(TaskQuery.builder().state(TaskState.SUCCESS), "results_state");
    assertSearchWalks(TaskQuery.builder().name("emails.send"), "results_name");
    assertSearchWalks(TaskQuery.builder().queue("email"), "results_queue");
    assertSearchWalks(TaskQuery.builder().parentId("p-1"), "results_parent");
    assertSearchWalks(TaskQuery.builder().from(Instant.EPOCH), "results_updated");
    assertSearchWalks(TaskQuery.builder().from(Instant.EPOCH).to(Instant.now()), "results_updated");
  }

  @Test
  void withoutFiltersTheUpdateOrderIndexIsWalkedNotTheExpiryIndex() {
    assertThat(searchPlan(TaskQuery.builder()))
        .containsExactly("SCAN results USING INDEX results_updated");
    assertThat(searchPlan(TaskQuery.builder().after(CURSOR)))
        .containsExactly("SEARCH results USING INDEX results_updated (updated_at<?)");
  }

  @Test
  void severalFiltersUseOneOfTheirIndexesAndStillNeverSort() {
    assertThat(
            String.join("\n", searchPlan(TaskQuery.builder().state(TaskState.FAILURE).queue("q"))))
        .containsAnyOf("INDEX results_state (", "INDEX results_queue (")
        .doesNotContain("TEMP B-TREE");
    assertThat(
            String.join(
                "\n",
                searchPlan(
                    TaskQuery.builder()
                        .name("n")
                        .state(TaskState.SUCCESS)
                        .queue("q")
                        .parentId("p")
                        .from(Instant.EPOCH)
                        .to(Instant.now())
                        .after(CURSOR))))
        .contains("INDEX results_")
        .doesNotContain("TEMP B-TREE");
  }

  @Test
  void countsWalkTheExpiryIndexOrTheFiltersIndex() {
    assertThat(plan(ResultSearch.countSql(TaskQuery.builder().build(), 0)))
        .containsExactly("SEARCH results USING COVERING INDEX results_expiry (expires_at>?)");
    assertThat(plan(ResultSearch.countSql(TaskQuery.builder().name("n").build(), 0)))
        .containsExactly("SEARCH results USING INDEX results_name (name=?)");
  }

  @Test
  void countsByTimeReadOneCoveringIndexRangeAndTheExpiredRowsOnly() {
    TimeBuckets day = TimeBuckets.ending(Instant.now(), Duration.ofDays(1), Duration.ofMinutes(15));
    for (var q :
        List.of(
            TaskQuery.builder().state(TaskState.SUCCESS),
            TaskQuery.builder().name("n"),
            TaskQuery.builder().queue("q"),
            TaskQuery.builder().parentId("p"),
            TaskQuery.builder())) {
      List<String> plan = plan(ResultSearch.countByTimeSql(q.build(), day, 0));
      assertThat(plan)
          .as("plan of %s", q.build())
          .anyMatch(
              step ->
                  step.startsWith("SEARCH results USING COVERING INDEX results_")
                      && step.contains("updated_at>? AND updated_at<?"))
          .anyMatch(step -> step.equals("SEARCH results USING INDEX results_expiry (expires_at<?)"))
          .noneMatch(step -> step.startsWith("SCAN results"));
    }
  }

  @Test
  void theFillRunAtEveryOpenFindsRowsWithoutStateByTheIndex() {
    assertThat(String.join("\n", plan(new ResultSearch.Sql(Schema.BACKFILL, List.of()))))
        .contains("INDEX results_state (state=?)");
  }
}
