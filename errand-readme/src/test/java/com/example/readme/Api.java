package com.example.readme;

/** The user's client of a third-party API. */
final class Api {
  Tasks.ApiReply call(Tasks.ApiCall call) throws RateLimited {
    return new Tasks.ApiReply(200);
  }
}
