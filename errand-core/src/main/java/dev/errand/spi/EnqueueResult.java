package dev.errand.spi;

/**
 * The outcome of enqueuing one message.
 *
 * @param id the id of the message that holds the idempotency key: the new message's own id, or the
 *     earlier message's id when {@code duplicate}
 * @param duplicate true if nothing was enqueued because the key was already taken
 */
public record EnqueueResult(String id, boolean duplicate) {}
