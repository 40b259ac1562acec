package dev.errand.cli.internal;

import dev.errand.dashboard.Dashboard;
import dev.errand.spi.Backend;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand dashboard}: the web dashboard and JSON API until SIGTERM. */
@Command(
    name = "dashboard",
    mixinStandardHelpOptions = true,
    description =
        "Serve the dashboard: queues, workers, tasks, dead letters and schedules, with actions;"
            + " JSON API under /api, Prometheus metrics at /metrics.")
final class DashboardCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;

  @Mixin DashboardOptions dashboard;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    GracefulStop stop = new GracefulStop().listen();
    Backend b = backend.open();
    Dashboard d;
    try {
      d = dashboard.builder(b).build().start();
    } catch (RuntimeException e) {
      b.close();
      throw e;
    }
    stop.then("dashboard", d::close).then("backend", b::close);
    var out = spec.commandLine().getOut();
    out.printf(
        "errand dashboard at %s%n  broker: %s%n  access: %s%n",
        d.url(), b.describe(), dashboard.describeAccess());
    out.flush();
    return stop.awaitStop() ? 0 : ErrandCommand.FAILURE;
  }

  /** The dashboard's flags, shared with {@code errand worker --dashboard}. */
  static final class DashboardOptions {
    @Option(
        names = "--port",
        paramLabel = "PORT",
        description = "Port to serve on (default: " + Dashboard.DEFAULT_PORT + ").")
    int port = Dashboard.DEFAULT_PORT;

    @Option(
        names = "--bind",
        paramLabel = "ADDRESS",
        description =
            "Address to bind (default: "
                + Dashboard.DEFAULT_BIND
                + "); any other needs --token or --user, or --insecure.")
    String bind = Dashboard.DEFAULT_BIND;

    @Option(
        names = "--token",
        paramLabel = "TOKEN",
        defaultValue = "${env:ERRAND_DASHBOARD_TOKEN}",
        description =
            "Require this token (16+ characters): scripts send it as a Bearer header, a person"
                + " types it once on the login page. Default: $ERRAND_DASHBOARD_TOKEN.")
    String token;

    @Option(
        names = "--user",
        paramLabel = "USER",
        description =
            "Require this user and the password in $ERRAND_DASHBOARD_PASSWORD: on the login page,"
                + " or as HTTP basic auth from scripts.")
    String user;

    @Option(
        names = "--insecure",
        description = "Allow binding beyond this machine without authentication.")
    boolean insecure;

    @Option(names = "--read-only", description = "Hide and refuse every action.")
    boolean readOnly;

    @Option(
        names = "--mask",
        paramLabel = "NAMES",
        split = ",",
        description =
            "More names whose values show as ****, besides the defaults (password, pwd, secret,"
                + " token, api key, credentials, private key, authorization; case and _ - ."
                + " ignored).")
    List<String> mask;

    Dashboard.Builder builder(Backend b) {
      Dashboard.Builder d =
          Dashboard.builder(b).port(port).bind(bind).insecure(insecure).readOnly(readOnly);
      if (token != null && !token.isBlank()) d.token(token);
      if (user != null) {
        String password = System.getenv("ERRAND_DASHBOARD_PASSWORD");
        if (password == null || password.isEmpty()) {
          throw new UsageException("--user needs the password in $ERRAND_DASHBOARD_PASSWORD");
        }
        d.basicAuth(user, password);
      }
      if (mask != null) mask(d, mask);
      return d;
    }

    /** Adds {@code names} to the dashboard's masked names; a bad one is a usage error. */
    static void mask(Dashboard.Builder d, List<String> names) {
      try {
        d.mask(names);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--mask: " + e.getMessage());
      }
    }

    String describeAccess() {
      String auth =
          token != null && !token.isBlank()
              ? "token"
              : user != null ? "basic auth as " + user : "no authentication";
      return auth + (readOnly ? ", read-only" : "");
    }
  }
}
