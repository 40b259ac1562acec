package dev.errand.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;

/** The example end to end over HTTP: a report requested, built by the app's worker, fetched. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"errand.url=memory:example-test", "errand.dashboard.port=0"})
class ReportsApplicationTest {

  @Autowired TestRestTemplate http;

  @Test
  @SuppressWarnings("unchecked")
  void aReportRequestedOverHttpIsBuiltInTheBackground() {
    Map<String, String> sent = http.postForObject("/reports?days=2", null, Map.class);
    String status = sent.get("status");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> "SUCCESS".equals(http.getForObject(status, Map.class).get("state")));
    Map<String, Object> done = http.getForObject(status, Map.class);
    assertThat((Map<String, Object>) done.get("report")).containsEntry("rows", 2000);
    Map<String, Object> health = http.getForObject("/actuator/health", Map.class);
    assertThat(health.get("status")).isEqualTo("UP");
    assertThat(http.postForEntity("/reports?days=0", null, Map.class).getStatusCode().value())
        .isEqualTo(400);
  }
}
