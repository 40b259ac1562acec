package dev.errand.spring.autoconfigure;

import dev.errand.dashboard.Dashboard;
import dev.errand.spi.Backend;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * The dashboard ({@code errand.dashboard.enabled=true}, errand-dashboard on the class path), served
 * on a port of its own with its own security: loopback only unless a token or basic auth is set,
 * under the same strict Content-Security-Policy as {@code errand dashboard}.
 */
@AutoConfiguration(after = ErrandAutoConfiguration.class)
@ConditionalOnClass(Dashboard.class)
@ConditionalOnProperty(prefix = "errand.dashboard", name = "enabled", havingValue = "true")
public class ErrandDashboardAutoConfiguration {

  /** Creates the configuration; Spring Boot does. */
  public ErrandDashboardAutoConfiguration() {}

  /** The dashboard, started with the context and stopped with it. */
  @Bean
  @ConditionalOnMissingBean
  public ErrandDashboardLifecycle errandDashboard(Backend backend, ErrandProperties properties) {
    try {
      return new ErrandDashboardLifecycle(build(backend, properties.getDashboard()));
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new IllegalArgumentException("errand.dashboard.*: " + e.getMessage(), e);
    }
  }

  private static Dashboard build(Backend backend, ErrandProperties.Dashboard p) {
    Dashboard.Builder b =
        Dashboard.builder(backend)
            .port(p.getPort())
            .bind(p.getBind())
            .readOnly(p.isReadOnly())
            .insecure(p.isInsecure());
    if (p.getToken() != null && !p.getToken().isEmpty()) {
      b.token(p.getToken());
    }
    if (p.getUsername() != null || p.getPassword() != null) {
      if (p.getUsername() == null || p.getPassword() == null) {
        throw new IllegalArgumentException(
            "errand.dashboard.username and errand.dashboard.password go together: only "
                + (p.getUsername() == null ? "password" : "username")
                + " is set");
      }
      b.basicAuth(p.getUsername(), p.getPassword());
    }
    if (p.getMask() != null) {
      b.mask(p.getMask());
    }
    // Built here, so a bad setting (a public bind with no authentication, a short token) fails
    // startup naming it; started with the context.
    return b.build();
  }
}
