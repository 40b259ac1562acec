package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.scheduler.Beat;
import dev.errand.scheduler.ScheduleSource;
import dev.errand.spi.Backend;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand beat}: the scheduler, leading or standing by, until SIGTERM. */
@Command(
    name = "beat",
    mixinStandardHelpOptions = true,
    description =
        "Run the scheduler: send each schedule's task when due. Run it on several machines: one"
            + " leads, the others take over within --failover when it dies.")
final class BeatCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;

  @Option(
      names = {"-A", "--app"},
      paramLabel = "CLASS",
      description =
          "A class implementing dev.errand.scheduler.ScheduleSource whose schedules are stored at"
              + " start (optional).")
  String app;

  @Option(
      names = "--classpath",
      paramLabel = "PATH",
      description = "Jars or directories to load --app from, separated by '${sys:path.separator}'.")
  String classpath;

  @Option(
      names = "--failover",
      paramLabel = "DURATION",
      description = "Longest a dead leader goes unreplaced, 1s to 1h (default: 10s).")
  Duration failover = Beat.DEFAULT_FAILOVER;

  @Option(
      names = "--misfire-grace",
      paramLabel = "DURATION",
      description = "How late a tick may fire and count as on time (default: 1s).")
  Duration misfireGrace = Beat.DEFAULT_MISFIRE_GRACE;

  @Option(
      names = "--group",
      paramLabel = "NAME",
      description = "Schedulers of one group elect one leader (default: beat).")
  String group = Beat.DEFAULT_GROUP;

  @Option(names = "--name", paramLabel = "NAME", description = "This scheduler's name.")
  String name;

  /** The longest --failover: a dead leader's schedules go unsent for up to this long. */
  static final Duration MAX_FAILOVER = Duration.ofHours(1);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Checks.between(
        "--failover",
        failover,
        Duration.ofSeconds(1),
        MAX_FAILOVER,
        "no schedule is sent for up to this long after the leader dies");
    Checks.notNegative("--misfire-grace", misfireGrace);
    List<?> defined = List.of();
    ScheduleSource source =
        app == null ? null : AppLoader.load(app, classpath, ScheduleSource.class);
    GracefulStop stop = new GracefulStop().listen();
    Backend b = backend.open();
    Beat beat;
    try {
      Beat.Builder builder =
          Beat.builder(Client.create(b)).failover(failover).misfireGrace(misfireGrace).group(group);
      if (name != null) builder.name(name);
      if (source != null) {
        defined = source.schedules();
        builder.schedules(source.schedules());
      }
      beat = builder.build();
    } catch (RuntimeException e) {
      b.close();
      throw e;
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "errand beat %s%n  broker:    %s%n  group:     %s (failover %s)%n",
        beat.name(),
        b.describe(),
        group,
        OutputOptions.age(Instant.EPOCH, Instant.EPOCH.plus(failover)));
    out.flush();
    try {
      beat.start();
    } catch (RuntimeException e) {
      b.close();
      throw e;
    }
    out.printf(
        "  schedules: %d stored, %d from code%n", beat.schedules().list().size(), defined.size());
    out.flush();
    stop.then("scheduler", beat::close).then("backend", b::close);
    return stop.awaitStop() ? 0 : ErrandCommand.FAILURE;
  }
}
