package com.example.readme;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The user's mail code: records what it sends. */
final class Mailer {
  final List<Tasks.SendEmail> sent = new CopyOnWriteArrayList<>();

  void send(Tasks.SendEmail mail) throws IOException {
    sent.add(mail);
  }
}
