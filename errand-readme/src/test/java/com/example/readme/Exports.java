package com.example.readme;

/** The user's export code. */
final class Exports {
  int count(Tasks.Export export) {
    return 3;
  }

  void write(Tasks.Export export, int row) {}

  String url(Tasks.Export export) {
    return "https://files.example.com/" + export.table() + ".csv";
  }
}
