package dev.errand.worker;

import dev.errand.TaskDef;

/** Task definitions shared by the worker tests. */
final class Tasks {
  private Tasks() {}

  record Add(int x, int y) {}

  record Job(String label) {}

  static final TaskDef<Add, Integer> ADD = TaskDef.of("math.add", Add.class, Integer.class);
  static final TaskDef<Job, String> JOB = TaskDef.of("jobs.run", Job.class, String.class);
}
