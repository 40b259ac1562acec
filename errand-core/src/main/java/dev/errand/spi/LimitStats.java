package dev.errand.spi;

import java.time.Instant;

/**
 * One limit key of a queue, as the broker holds it now.
 *
 * @param limit the limit as last stated for the key
 * @param running messages of the key leased now (they hold its concurrency)
 * @param waiting messages of the key held back by the limit
 * @param nextStartAt when the rate lets the next one start (now or earlier when it may), or null
 *     with no rate limit
 */
public record LimitStats(FlowLimit limit, long running, long waiting, Instant nextStartAt) {}
