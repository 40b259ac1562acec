package com.example.readme;

import dev.errand.Client;

/** The user's sign-up code: sends the welcome email five minutes after signing up. */
final class Signup {
  private final Client client;

  Signup(Client client) {
    this.client = client;
  }

  void register(String email) {
    Tasks.sendWelcome(client, new Tasks.SendEmail(email, "Welcome", "Hello!"), email);
  }
}
