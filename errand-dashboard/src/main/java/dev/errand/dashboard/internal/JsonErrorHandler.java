package dev.errand.dashboard.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The error answer of requests Jetty refuses before the dashboard sees them (a malformed URI, a bad
 * header): the same fixed JSON and headers as every other error, instead of Jetty's HTML page.
 */
final class JsonErrorHandler implements Request.Handler {

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    int status = response.getStatus() >= 400 ? response.getStatus() : 500;
    SecurityFilter.HEADERS.forEach((k, v) -> response.getHeaders().put(k, v));
    response.getHeaders().put("Content-Type", "application/json");
    response.getHeaders().put("Cache-Control", "no-store");
    // Jetty drops the connection after a request it could not read: say so, or a client reuses it.
    response.getHeaders().put("Connection", "close");
    String reason = HttpStatus.getMessage(status); // fixed text, never the request's
    byte[] body = ("{\"error\":\"" + reason + "\"}").getBytes(StandardCharsets.UTF_8);
    response.write(true, ByteBuffer.wrap(body), callback);
    return true;
  }
}
