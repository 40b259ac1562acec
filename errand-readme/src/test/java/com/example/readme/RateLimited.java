package com.example.readme;

import java.time.Duration;

/** The user's exception for an API that asks to be called again later. */
final class RateLimited extends Exception {
  private static final long serialVersionUID = 1L;

  private final Duration retryAfter;

  RateLimited(Duration retryAfter) {
    super("rate limited, retry after " + retryAfter);
    this.retryAfter = retryAfter;
  }

  Duration retryAfter() {
    return retryAfter;
  }
}
