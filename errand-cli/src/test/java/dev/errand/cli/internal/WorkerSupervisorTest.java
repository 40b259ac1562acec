package dev.errand.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JVM options of the worker process: the launcher's worker defaults, then what follows them on
 * the supervisor's command line (the class-data archive, the user's ERRAND_JAVA_OPTS), never the
 * supervisor's own small heap; without the launcher, the supervisor's options as they are.
 */
class WorkerSupervisorTest {

  @Test
  void theWorkerProcessGetsTheLaunchersWorkerOptionsThenTheUsersButNotTheSupervisorsOwn() {
    List<String> supervisor =
        List.of(
            "-XX:TieredStopAtLevel=1",
            "-Xmx64m",
            "-D" + WorkerSupervisor.WORKER_JVM_OPTIONS + "=-XX:+UseSerialGC  -Xms16m",
            "-XX:SharedArchiveFile=/a b/errand.jsa",
            "-Xmx2g");
    assertThat(WorkerSupervisor.childJvmOptions(supervisor))
        .containsExactly(
            "-XX:+UseSerialGC", "-Xms16m", "-XX:SharedArchiveFile=/a b/errand.jsa", "-Xmx2g");
  }

  @Test
  void withoutTheLauncherTheWorkerProcessGetsTheSupervisorsOptions() {
    List<String> supervisor = List.of("-Xmx512m", "-Dapp.mode=prod");
    assertThat(WorkerSupervisor.childJvmOptions(supervisor)).isEqualTo(supervisor);
    assertThat(
            WorkerSupervisor.childJvmOptions(
                List.of("-D" + WorkerSupervisor.WORKER_JVM_OPTIONS + "=")))
        .isEmpty();
  }
}
