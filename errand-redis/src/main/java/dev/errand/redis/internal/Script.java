package dev.errand.redis.internal;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script from this package's resources, run with EVALSHA and loaded again with EVAL when the
 * server does not know it (after a restart or SCRIPT FLUSH). Immutable and thread-safe.
 */
public final class Script {

  public static final Script ENQUEUE = load("enqueue", "clock", "guard", "batch", "meta", "limits");
  public static final Script CLAIM =
      load("claim", "clock", "guard", "batch", "meta", "limits", "queue_common");
  public static final Script ACK = load("ack", "clock", "guard", "batch", "limits");
  public static final Script RENEW = load("renew", "clock", "guard", "batch");
  public static final Script RELEASE = load("release", "clock", "guard", "batch", "meta", "limits");
  public static final Script RETRY = load("retry", "clock", "guard", "batch", "meta", "limits");
  public static final Script STATS =
      load("stats", "clock", "guard", "batch", "meta", "limits", "queue_common");
  public static final Script PURGE = load("purge", "clock", "guard", "batch", "limits");
  public static final Script LIMITS_READ = load("limits_read", "clock", "guard", "batch", "limits");
  public static final Script EVENTS_PUBLISH = load("events_publish");
  public static final Script EVENTS_READ = load("events_read");
  public static final Script ONCE = load("once", "clock");
  public static final Script DEAD_ADD = load("dead_add");
  public static final Script DEAD_REMOVE = load("dead_remove");
  public static final Script DEAD_COUNTS = load("dead_counts");
  public static final Script SCHEDULE_READ = load("schedule_read");
  public static final Script SCHEDULE_PUT = load("schedule_put");
  public static final Script SCHEDULE_DELETE = load("schedule_delete");
  public static final Script SCHEDULE_LEAD = load("schedule_lead", "clock");
  public static final Script SCHEDULE_RESIGN = load("schedule_resign");
  public static final Script TASKS_INDEX = load("tasks_index", "guard", "batch", "tasks_common");
  public static final Script TASKS_TRIM = load("tasks_trim", "guard", "batch", "tasks_common");
  public static final Script TASKS_SEARCH = load("tasks_search", "guard", "batch", "tasks_common");
  public static final Script SETTLE =
      load("settle", "clock", "guard", "batch", "meta", "limits", "tasks_common");
  public static final Script GROUP_PUT = load("group_put", "guard", "batch");
  public static final Script CHORD_PUT = load("chord_put", "guard", "batch");
  public static final Script CHORD_READ = load("chord_read");
  public static final Script CHORD_PART = load("chord_part");
  public static final Script SHARDS = load("shards");
  public static final Script OUTBOX_TAKE = load("outbox_take", "clock");
  public static final Script CELERY_CLAIM = load("celery_claim", "clock", "celery_common");
  public static final Script CELERY_PARK = load("celery_park", "clock", "celery_common");
  public static final Script CELERY_RENEW = load("celery_renew", "clock", "celery_common");
  public static final Script CELERY_REFRESH = load("celery_refresh", "clock", "celery_common");
  public static final Script CELERY_SETTLE = load("celery_settle", "clock", "celery_common");
  public static final Script CELERY_ENQUEUE = load("celery_enqueue", "clock");
  public static final Script CELERY_STATS = load("celery_stats", "clock", "celery_common");
  public static final Script CELERY_RESTORE = load("celery_restore");

  private final String name;
  private final String source;
  private final String sha;

  private Script(String name, String source) {
    this.name = name;
    this.source = source;
    this.sha = sha1(source);
  }

  public String name() {
    return name;
  }

  /** Runs the script; the returned stage fails like the command would. */
  public <T> CompletableFuture<T> run(
      RedisClusterAsyncCommands<String, byte[]> redis,
      ScriptOutputType type,
      String[] keys,
      byte[]... args) {
    CompletableFuture<T> first = redis.<T>evalsha(sha, type, keys, args).toCompletableFuture();
    return first
        .handle(
            (value, error) -> {
              if (error == null) {
                return CompletableFuture.completedFuture(value);
              }
              Throwable cause = error instanceof CompletionException ? error.getCause() : error;
              if (cause instanceof RedisNoScriptException) {
                return redis
                    .<T>eval(source.getBytes(StandardCharsets.UTF_8), type, keys, args)
                    .toCompletableFuture();
              }
              return CompletableFuture.<T>failedFuture(cause);
            })
        .thenCompose(f -> f);
  }

  /**
   * Adds the script to {@code batch} (written with the batch's other commands), for a script that
   * returns an integer; when the server does not know it, runs it again with EVAL.
   */
  CompletableFuture<Long> runInteger(Batch batch, String[] keys, byte[]... args) {
    return batch
        .evalshaInteger(sha, keys, args)
        .handle(
            (value, error) -> {
              if (error == null) {
                return CompletableFuture.completedFuture(value);
              }
              Throwable cause = error instanceof CompletionException ? error.getCause() : error;
              if (cause instanceof RedisNoScriptException) {
                return batch
                    .async()
                    .<Long>eval(
                        source.getBytes(StandardCharsets.UTF_8),
                        ScriptOutputType.INTEGER,
                        keys,
                        args)
                    .toCompletableFuture();
              }
              return CompletableFuture.<Long>failedFuture(cause);
            })
        .thenCompose(f -> f);
  }

  /** Loads {@code name.lua}, after the shared fragments it needs. */
  private static Script load(String name, String... fragments) {
    StringBuilder source = new StringBuilder();
    for (String f : fragments) {
      source.append(read(f)).append('\n');
    }
    return new Script(name, source.append(read(name)).toString());
  }

  private static String read(String name) {
    String path = name + ".lua";
    try (InputStream in = Script.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing script resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(String source) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
