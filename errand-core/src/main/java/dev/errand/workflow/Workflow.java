package dev.errand.workflow;

/**
 * Tasks composed to run together: a {@link Signature} (one task call), a {@link Chain} (one after
 * another, each given the previous result), a {@link Group} (in parallel) or a {@link Chord} (a
 * group, then a callback given all of its results). Built with {@link Workflows} and sent with
 * {@link dev.errand.Client#send(Chain)} and its overloads.
 *
 * <p>Every step of a sent workflow advances in the same atomic backend operation that stores the
 * previous step's outcome, so a worker killed at any moment never loses the next step and never
 * runs a chord's callback twice ({@code docs/workflows.md}). Immutable and thread-safe: a workflow
 * can be built once and sent many times; each send assigns new task ids.
 */
public sealed interface Workflow permits Signature, Chain, Group, Chord {}
