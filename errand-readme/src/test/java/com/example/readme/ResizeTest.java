package com.example.readme;

// readme:begin testing-eager
import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.worker.Eager;
import dev.errand.worker.TaskRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ResizeTest {
  @Test
  void resizesToTheWidthAsked() throws InterruptedException {
    TaskRegistry tasks = new TaskRegistry()
        .handle(Thumbnails.RESIZE, (img, ctx) -> Images.resize(img.url(), img.width()));
    Client client = Eager.builder(tasks).propagateExceptions(true).build();

    String url = client.enqueue(Thumbnails.RESIZE, new Thumbnails.Resize("a.png", 64))
        .get(Duration.ZERO);                      // already done: eager runs it inline
    assertThat(url).isEqualTo("a-64.png");
  }
}
// readme:end
