package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.cli.internal.ErrandCommand;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code errand bench-search} at a small size, in-process, on SQLite and in memory. */
class SearchBenchCommandTest {

  static final String[] FILTERS = {
    "none", "state", "name", "queue", "parent", "time", "combined", "combined-empty"
  };

  record Run(int code, String out, String err) {}

  static Run errand(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void printsARowForEveryFilterOnAFreshSqliteFile(@TempDir Path dir) {
    Run run =
        errand(
            "bench-search",
            "--broker",
            "sqlite:" + dir.resolve("search.db"),
            "--rows",
            "2000",
            "--repeat",
            "2");

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("stored 2,000 of 2,000 (100%)")
        .contains("FIRST PAGE")
        .contains("DEEP PAGE")
        .contains("COUNT")
        .contains("OVERVIEW CHART")
        .containsPattern("(?m)^hour +60 +1,910 +40 ")
        .containsPattern("(?m)^day +96 +1,910 +40 ")
        .contains("first count after every status expired")
        .contains("delete the file when done");
    for (String filter : FILTERS) {
      assertThat(run.out()).as(filter).containsPattern("(?m)^" + filter + " +\\S");
    }
    // one in 50 rows failed: 40 of 2,000, and the no-match combination finds none
    assertThat(run.out()).containsPattern("(?m)^state +state=FAILURE \\(2%\\) +40 ");
    assertThat(run.out()).containsPattern("(?m)^combined-empty +.* 0 +");
  }

  @Test
  void printsEveryFilterAsJsonInMemory() throws Exception {
    Run run =
        errand(
            "bench-search",
            "--broker",
            "memory:bench-search-" + System.nanoTime(),
            "--rows",
            "2000",
            "--depth",
            "500",
            "--json");

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.err()).as("progress goes to stderr with --json").contains("stored 2,000");
    JsonNode tree = Wire.mapper().readTree(run.out());
    assertThat(tree.get("rows").asInt()).isEqualTo(2000);
    JsonNode figures = tree.get("figures");
    assertThat(figures.get("fillPerSecond").asDouble()).isPositive();
    List<String> names = new ArrayList<>();
    for (JsonNode f : figures.get("filters")) {
      names.add(f.get("filter").asText());
      assertThat(f.get("firstPage").get("maxMs").asDouble())
          .isGreaterThanOrEqualTo(f.get("firstPage").get("medianMs").asDouble());
    }
    assertThat(names).containsExactly(FILTERS);
    JsonNode all = figures.get("filters").get(0);
    assertThat(all.get("matches").asLong()).isEqualTo(2000);
    assertThat(all.get("deepAt").asLong()).isEqualTo(500);
    assertThat(all.get("deepPage").get("medianMs").asDouble()).isPositive();
    JsonNode day = figures.get("charts").get(1);
    assertThat(day.get("range").asText()).isEqualTo("day");
    assertThat(day.get("buckets").asInt()).isEqualTo(96);
    assertThat(day.get("succeeded").asLong() + day.get("failed").asLong()).isEqualTo(1950);
    assertThat(day.get("byTime").get("medianMs").asDouble()).isPositive();
  }

  @Test
  void zeroRowsIsBadUsage() {
    Run run = errand("bench-search", "--broker", "memory:unused", "--rows", "0");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--rows must be > 0 but was 0");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void refusesAnSqliteFileThatHoldsData(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("in-use.db");
    Files.writeString(file, "not empty");

    Run run = errand("bench-search", "--broker", "sqlite:" + file, "--rows", "10");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("needs a fresh SQLite file").contains(file.toString());
    assertThat(Files.readString(file)).isEqualTo("not empty");
  }

  @Test
  void helpRecommendsAFreshSqliteFile() {
    Run help = errand("bench-search", "--help");

    assertThat(help.code()).isZero();
    assertThat(help.out())
        .contains("Usage: errand bench-search")
        .contains("--rows=N")
        .contains("fresh file");
  }
}
