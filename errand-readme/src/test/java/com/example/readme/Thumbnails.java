package com.example.readme;

// readme:begin in-ten-lines
import dev.errand.AsyncResult;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.spi.Backend;
import dev.errand.worker.Worker;
import java.time.Duration;

public class Thumbnails {
  record Resize(String url, int width) {}
  static final TaskDef<Resize, String> RESIZE = TaskDef.of("images.resize", Resize.class, String.class);

  public static void main(String[] args) throws InterruptedException {
    Backend backend = Backends.open("sqlite:errand.db");        // or memory:, redis://host:6379/0
    Worker worker = Worker.builder(backend)
        .handle(RESIZE, (img, ctx) -> Images.resize(img.url(), img.width()))
        .build().start();                                        // consumes queue "default"

    Client client = Client.create(backend);                      // producers need only this
    AsyncResult<String> r = client.enqueue(RESIZE, new Resize("s3://a.png", 256));
    String thumbnail = r.get(Duration.ofSeconds(30));            // or r.toCompletableFuture()
    System.out.println(thumbnail);

    worker.close();                                              // lets running tasks finish
    backend.close();
  }
}
// readme:end
