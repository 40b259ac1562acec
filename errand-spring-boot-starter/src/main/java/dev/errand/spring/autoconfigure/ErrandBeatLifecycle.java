package dev.errand.spring.autoconfigure;

import dev.errand.Client;
import dev.errand.scheduler.Beat;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleSource;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * The scheduler ({@code errand.beat.enabled=true}) as a {@link SmartLifecycle}: on start it stores
 * the schedules of {@link dev.errand.spring.ErrandSchedule} methods, {@link Schedule} beans and
 * {@link ScheduleSource} beans through {@link Beat} and starts firing; any number of instances may
 * run it, one leads at a time. Thread-safe.
 */
public final class ErrandBeatLifecycle implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ErrandBeatLifecycle.class);

  private final Client client;
  private final ErrandProperties.Beat properties;
  private final ErrandTaskRegistrar registrar;
  private final ObjectProvider<Schedule> schedules;
  private final ObjectProvider<ScheduleSource> sources;
  private volatile Beat beat;

  ErrandBeatLifecycle(
      Client client,
      ErrandProperties.Beat properties,
      ErrandTaskRegistrar registrar,
      ObjectProvider<Schedule> schedules,
      ObjectProvider<ScheduleSource> sources) {
    this.client = client;
    this.properties = properties;
    this.registrar = registrar;
    this.schedules = schedules;
    this.sources = sources;
  }

  /** The running scheduler, or null before start and after stop. */
  public Beat beat() {
    return beat;
  }

  /** Every schedule the application declares. */
  List<Schedule> declared() {
    List<Schedule> all = new ArrayList<>(registrar.schedules());
    schedules.orderedStream().forEach(all::add);
    sources.orderedStream().forEach(s -> all.addAll(s.schedules()));
    return all;
  }

  @Override
  public synchronized void start() {
    if (beat != null) {
      return;
    }
    List<Schedule> all = declared();
    Beat b =
        Beat.builder(client)
            .schedules(all)
            .failover(properties.getFailover())
            .group(properties.getGroup())
            .build();
    b.start();
    beat = b;
    log.info("Errand scheduler {} started with {} schedule(s)", b.name(), all.size());
  }

  @Override
  public synchronized void stop() {
    Beat b = beat;
    beat = null;
    if (b != null) {
      b.close();
    }
  }

  @Override
  public boolean isRunning() {
    return beat != null;
  }

  @Override
  public int getPhase() {
    return ErrandWorkerLifecycle.PHASE;
  }
}
