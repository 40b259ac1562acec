package dev.errand.cli.internal.demo;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskState;
import dev.errand.spi.Backend;
import dev.errand.worker.Worker;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Help.Ansi;

/** Runs the demo: starts the worker, sends the mix, refreshes the view, prints the summary. */
public final class DemoDriver {

  private static final Duration REFRESH = Duration.ofMillis(200);

  private final Backend backend;
  private final Client client;
  private final Worker worker;
  private final PrintWriter out;
  private final DemoView view;
  private final String brokerUrl;
  private volatile boolean stopped;

  public DemoDriver(
      Backend backend,
      Client client,
      Worker worker,
      PrintWriter out,
      Ansi ansi,
      boolean terminal,
      String brokerUrl) {
    this.backend = backend;
    this.client = client;
    this.worker = worker;
    this.out = out;
    this.view = new DemoView(out, terminal ? ansi : Ansi.OFF, terminal);
    this.brokerUrl = brokerUrl;
  }

  /** Stops the live loop early (Ctrl-C); the summary is still printed. */
  public void interrupt() {
    stopped = true;
  }

  /**
   * Runs until every task is finished, the timeout passes or {@link #interrupt()}.
   *
   * @return true if every task finished
   */
  public boolean run(Duration timeout) throws InterruptedException {
    out.println("Starting a worker (queues email, default) on " + backend.describe());
    out.println(
        "Sending "
            + DemoRun.EMAILS
            + " emails (about a third fail and retry), a 30,000-row CSV export, a report"
            + " slower than its 2 s soft limit, 40 thumbnails (10 urgent sent last) and one"
            + " undecodable message.");
    out.println();
    out.flush();
    long latestSeq = backend.events().latest(1).stream().mapToLong(Event::seq).max().orElse(0);
    worker.start();
    long t0 = System.nanoTime();
    DemoRun run = new DemoRun();
    run.send(client, backend);
    Map<TaskState, Integer> counts = run.counts(backend);
    int retries = 0;
    long deadline = t0 + timeout.toNanos();
    while (!stopped && System.nanoTime() < deadline) {
      List<Event> events = backend.events().read(latestSeq, 1000);
      for (Event e : events) {
        latestSeq = e.seq();
        if (e.type() == EventType.TASK_RETRIED) {
          retries++;
        }
      }
      view.events(events);
      counts = run.counts(backend);
      view.draw(counts, run.kindById.size(), run.exportProgress(), seconds(t0));
      if (run.done(counts)) {
        break;
      }
      Thread.sleep(REFRESH.toMillis());
    }
    boolean complete = run.done(counts);
    String exportFile = null;
    if (run.export.state() == TaskState.SUCCESS) {
      exportFile = String.valueOf(run.export.status().result().get("file").asText());
    }
    List<DeadLetter> dead = backend.deadLetters().list(null, 0, 20);
    view.summary(
        counts,
        retries,
        dead,
        exportFile,
        meanFinishMs(run.high),
        meanFinishMs(run.low),
        seconds(t0),
        brokerUrl);
    if (!complete) {
      out.println(
          stopped
              ? "Stopped before every task finished."
              : "Timed out before every task finished.");
      out.flush();
    }
    return complete;
  }

  private static double meanFinishMs(List<AsyncResult<String>> results) {
    double sum = 0;
    int n = 0;
    for (AsyncResult<String> r : results) {
      var s = r.status();
      if (s.finishedAt() != null && s.sentAt() != null) {
        sum += Duration.between(s.sentAt(), s.finishedAt()).toMillis();
        n++;
      }
    }
    return n == 0 ? 0 : sum / n;
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
