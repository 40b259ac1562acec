package dev.errand.redis.internal;

import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.output.ValueOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Commands collected and then written to the connection in one go: one channel write and one
 * event-loop wake-up for the whole batch, where calling the async API per command costs one of each
 * per command (the largest share of Lettuce's cost when a worker stores hundreds of results a
 * second). Replies and timeouts are as for single commands. Not thread-safe: one batch belongs to
 * the thread that fills it.
 */
final class Batch {

  private final StatefulConnection<String, byte[]> connection;
  private final RedisClusterAsyncCommands<String, byte[]> async;
  private final List<RedisCommand<String, byte[], ?>> commands;

  /** On a cluster connection each command goes to its key's slot, as a single command would. */
  Batch(
      StatefulConnection<String, byte[]> connection,
      RedisClusterAsyncCommands<String, byte[]> async,
      int expected) {
    this.connection = connection;
    this.async = async;
    this.commands = new ArrayList<>(expected);
  }

  /** {@code SET key value PX millis}. */
  CompletableFuture<String> setPx(String key, byte[] value, long millis) {
    CommandArgs<String, byte[]> args =
        new CommandArgs<>(Redis.CODEC).addKey(key).addValue(value).add("PX").add(millis);
    return add(new Command<>(CommandType.SET, new StatusOutput<>(Redis.CODEC), args));
  }

  /** {@code PUBLISH channel message}. */
  CompletableFuture<Long> publish(String channel, byte[] message) {
    CommandArgs<String, byte[]> args =
        new CommandArgs<>(Redis.CODEC).addKey(channel).addValue(message);
    return add(new Command<>(CommandType.PUBLISH, new IntegerOutput<>(Redis.CODEC), args));
  }

  /** {@code GET key}. */
  CompletableFuture<byte[]> get(String key) {
    CommandArgs<String, byte[]> args = new CommandArgs<>(Redis.CODEC).addKey(key);
    return add(new Command<>(CommandType.GET, new ValueOutput<>(Redis.CODEC), args));
  }

  /** {@code ZCOUNT key min (max}: members scored in {@code [min, max)}. */
  CompletableFuture<Long> zcount(String key, long min, long max) {
    CommandArgs<String, byte[]> args =
        new CommandArgs<>(Redis.CODEC).addKey(key).add(min).add("(" + max);
    return add(new Command<>(CommandType.ZCOUNT, new IntegerOutput<>(Redis.CODEC), args));
  }

  /** {@code EVALSHA sha numkeys keys... args...} of a script that returns an integer. */
  CompletableFuture<Long> evalshaInteger(String sha, String[] keys, byte[][] values) {
    CommandArgs<String, byte[]> args =
        new CommandArgs<>(Redis.CODEC).add(sha).add(keys.length).addKeys(keys).addValues(values);
    return add(new Command<>(CommandType.EVALSHA, new IntegerOutput<>(Redis.CODEC), args));
  }

  /** The connection's command interface, for what cannot wait for the batch (a script reload). */
  RedisClusterAsyncCommands<String, byte[]> async() {
    return async;
  }

  private <T> CompletableFuture<T> add(Command<String, byte[], T> command) {
    AsyncCommand<String, byte[], T> async = new AsyncCommand<>(command);
    commands.add(async);
    return async;
  }

  /** Writes every command collected so far; their futures complete as the replies arrive. */
  void send() {
    if (!commands.isEmpty()) {
      connection.dispatch(commands);
    }
  }
}
