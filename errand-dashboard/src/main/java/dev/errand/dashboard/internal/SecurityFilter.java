package dev.errand.dashboard.internal;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;

/**
 * In front of everything the server answers, pages, API, static files and errors alike: the
 * security headers, and a request's {@code X-HTTP-Method-Override} hidden (Javalin would otherwise
 * route a POST as whatever method that header names, past the checks made on the real method).
 */
final class SecurityFilter implements Filter {

  /**
   * Scripts and styles from this server only, no inline script or handler, nothing framed, forms
   * and connections to this server only. uPlot sets its styles through the DOM, which this allows.
   */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none';"
          + " frame-ancestors 'none'";

  /** The headers of every answer. */
  static final Map<String, String> HEADERS =
      Map.of(
          "Content-Security-Policy", CONTENT_SECURITY_POLICY,
          "X-Content-Type-Options", "nosniff",
          "X-Frame-Options", "DENY",
          "Referrer-Policy", "no-referrer",
          "Cross-Origin-Opener-Policy", "same-origin",
          "Cross-Origin-Resource-Policy", "same-origin");

  static final String METHOD_OVERRIDE = "X-HTTP-Method-Override";

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    HttpServletResponse res = (HttpServletResponse) response;
    HttpServletRequest req = (HttpServletRequest) request;
    HEADERS.forEach(res::setHeader);
    String path = req.getRequestURI();
    if (path.startsWith("/api/") || path.equals("/login") || path.equals("/metrics")) {
      res.setHeader("Cache-Control", "no-store");
    }
    chain.doFilter(new WithoutMethodOverride(req), response);
  }

  /** The request as sent, without the method-override header. */
  private static final class WithoutMethodOverride extends HttpServletRequestWrapper {
    WithoutMethodOverride(HttpServletRequest request) {
      super(request);
    }

    @Override
    public String getHeader(String name) {
      return METHOD_OVERRIDE.equalsIgnoreCase(name) ? null : super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
      return METHOD_OVERRIDE.equalsIgnoreCase(name)
          ? Collections.emptyEnumeration()
          : super.getHeaders(name);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
      return Collections.enumeration(
          Collections.list(super.getHeaderNames()).stream()
              .filter(n -> !METHOD_OVERRIDE.equalsIgnoreCase(n))
              .toList());
    }
  }
}
