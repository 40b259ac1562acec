package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.cli.internal.ErrandCommand;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkflowBenchCommandTest {

  record Run(int code, String out, String err) {}

  static Run errand(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void timesAChordAndAChainAndChecksTheirResults(@TempDir Path dir) throws Exception {
    Run run =
        errand(
            "bench-workflows",
            "--broker",
            "sqlite:" + dir.resolve("wf.db"),
            "--members",
            "200",
            "--steps",
            "30",
            "--runs",
            "1",
            "--json");

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    JsonNode json = Wire.mapper().readTree(run.out());
    assertThat(json.get("chord").get(0).get("ok").asBoolean()).isTrue();
    assertThat(json.get("chain").get(0).get("ok").asBoolean()).isTrue();
    assertThat(json.get("chord").get(0).get("seconds").asDouble()).isPositive();
  }

  @Test
  void refusesBadSizesWithAClearMessage() {
    Run run = errand("bench-workflows", "--broker", "memory:unused", "--members", "0");

    assertThat(run.code()).isNotZero();
    assertThat(run.err()).contains("--members must be > 0 but was 0");
  }
}
