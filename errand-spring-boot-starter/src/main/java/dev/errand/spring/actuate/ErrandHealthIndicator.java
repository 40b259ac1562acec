package dev.errand.spring.actuate;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/** {@code /actuator/health/errand} on Spring Boot 3: see {@link ErrandStatus#health()}. */
public final class ErrandHealthIndicator extends AbstractHealthIndicator {

  private final ErrandStatus status;

  /** Reports {@code status}. */
  public ErrandHealthIndicator(ErrandStatus status) {
    super("Errand health check failed");
    this.status = status;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    ErrandStatus.Verdict v = status.health();
    (v.up() ? builder.up() : builder.down()).withDetails(v.details());
  }
}
