package dev.errand.spring.actuate;

import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;

/** {@code errand} in {@code /actuator/info} on Spring Boot 3: see {@link ErrandStatus#info()}. */
public final class ErrandInfoContributor implements InfoContributor {

  private final ErrandStatus status;

  /** Reports {@code status}. */
  public ErrandInfoContributor(ErrandStatus status) {
    this.status = status;
  }

  @Override
  public void contribute(Info.Builder builder) {
    builder.withDetail("errand", status.info());
  }
}
