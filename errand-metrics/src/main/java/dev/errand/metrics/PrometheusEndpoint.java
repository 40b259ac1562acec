package dev.errand.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves a {@link PrometheusMeterRegistry} at {@code GET /metrics} over plain HTTP, for a process
 * with no web server of its own (e.g. {@code errand worker --metrics :9464}). It has no
 * authentication, like Prometheus exporters: the metrics carry queue and task names, never
 * arguments; bind it to an address only your Prometheus can reach. Thread-safe.
 */
public final class PrometheusEndpoint implements AutoCloseable {

  private final HttpServer server;
  private final ExecutorService executor;

  private PrometheusEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving {@code registry} on {@code host:port} (port 0 picks a free one). A scrape only
   * formats what the registry holds: {@link BackendMetrics} reads the backend on a thread of its
   * own, so a slow or dead backend never holds a scrape.
   *
   * @throws UncheckedIOException if the address cannot be bound
   */
  public static PrometheusEndpoint start(PrometheusMeterRegistry registry, String host, int port) {
    Objects.requireNonNull(registry, "registry");
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    // Scrapes come every few seconds and never wait on the backend: one thread is plenty.
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "errand-metrics-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/",
        exchange -> {
          try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())
                && !"HEAD".equals(exchange.getRequestMethod())) {
              send(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
            } else if (!exchange.getRequestURI().getPath().equals("/metrics")) {
              send(exchange, 404, "text/plain; charset=utf-8", "metrics are at /metrics\n");
            } else {
              send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
            }
          }
        });
    server.start();
    return new PrometheusEndpoint(server, executor);
  }

  /** The port served on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The scrape URL, e.g. {@code http://127.0.0.1:9464/metrics}. */
  public String url() {
    InetSocketAddress a = server.getAddress();
    String host = a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + a.getPort() + "/metrics";
  }

  /** Stops serving. Idempotent. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }
}
