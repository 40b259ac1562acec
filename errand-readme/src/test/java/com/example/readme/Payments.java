package com.example.readme;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The user's payment code: records the orders it charges. */
final class Payments {
  final List<Tasks.Order> charged = new CopyOnWriteArrayList<>();

  void charge(Tasks.Order order) {
    charged.add(order);
  }
}
