package dev.errand.workflow;

import dev.errand.TaskError;

/**
 * What a {@link Signature#linkError} callback is given: the task that failed for good.
 *
 * @param taskId its id
 * @param task its name
 * @param error its error
 */
public record FailedTask(String taskId, String task, TaskError error) {}
