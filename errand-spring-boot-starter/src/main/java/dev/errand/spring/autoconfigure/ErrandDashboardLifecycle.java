package dev.errand.spring.autoconfigure;

import dev.errand.dashboard.Dashboard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/** Starts and stops the {@link Dashboard} with the context. Thread-safe. */
public final class ErrandDashboardLifecycle implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ErrandDashboardLifecycle.class);

  private final Dashboard dashboard;
  private volatile boolean running;

  ErrandDashboardLifecycle(Dashboard dashboard) {
    this.dashboard = dashboard;
  }

  /** The dashboard (its {@link Dashboard#url()} once started). */
  public Dashboard dashboard() {
    return dashboard;
  }

  @Override
  public synchronized void start() {
    if (!running) {
      dashboard.start();
      running = true;
      log.info("Errand dashboard on {}", dashboard.url());
    }
  }

  @Override
  public synchronized void stop() {
    if (running) {
      running = false;
      dashboard.close();
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
