package dev.errand.redis.internal;

import io.lettuce.core.RedisChannelWriter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisReactiveCommandsImpl;
import io.lettuce.core.RedisURI;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.protocol.PushHandler;
import io.lettuce.core.pubsub.PubSubEndpoint;
import io.lettuce.core.pubsub.RedisPubSubReactiveCommandsImpl;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnectionImpl;
import io.lettuce.core.pubsub.api.reactive.RedisPubSubReactiveCommands;
import io.lettuce.core.pubsub.api.sync.RedisPubSubCommands;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;

/**
 * A Lettuce client whose connections offer only the asynchronous API, the one Errand uses. A stock
 * connection builds its synchronous and reactive APIs as it opens: a proxy class over some 600
 * methods, with a reflective {@code Method} for each and every type their signatures name, and the
 * reactive implementation — about 5 MiB of classes and heap in every worker process, for APIs that
 * are never called. Lettuce makes these factories {@code protected} for subclasses like this one.
 *
 * <p>{@code sync()} and {@code reactive()} on its connections throw {@link
 * UnsupportedOperationException}. Thread-safe, as {@link RedisClient} is.
 */
final class AsyncOnlyClient extends RedisClient {

  private static final String WHY = "Errand's Redis connections offer only the async API";

  AsyncOnlyClient(ClientResources resources, RedisURI uri) {
    super(resources, uri);
  }

  @Override
  protected <K, V> StatefulRedisConnectionImpl<K, V> newStatefulRedisConnection(
      RedisChannelWriter writer,
      PushHandler pushHandler,
      RedisCodec<K, V> codec,
      Duration timeout) {
    return new Connection<>(writer, pushHandler, codec, timeout);
  }

  @Override
  protected <K, V> StatefulRedisPubSubConnectionImpl<K, V> newStatefulRedisPubSubConnection(
      PubSubEndpoint<K, V> endpoint,
      RedisChannelWriter writer,
      RedisCodec<K, V> codec,
      Duration timeout) {
    return new PubSubConnection<>(endpoint, writer, codec, timeout);
  }

  private static final class Connection<K, V> extends StatefulRedisConnectionImpl<K, V> {

    Connection(
        RedisChannelWriter writer,
        PushHandler pushHandler,
        RedisCodec<K, V> codec,
        Duration timeout) {
      super(writer, pushHandler, codec, timeout);
    }

    @Override
    protected RedisCommands<K, V> newRedisSyncCommandsImpl() {
      return null; // called by the super constructor: never built
    }

    @Override
    protected RedisReactiveCommandsImpl<K, V> newRedisReactiveCommandsImpl() {
      return null;
    }

    @Override
    public RedisCommands<K, V> sync() {
      throw new UnsupportedOperationException(WHY);
    }

    @Override
    public RedisReactiveCommands<K, V> reactive() {
      throw new UnsupportedOperationException(WHY);
    }
  }

  private static final class PubSubConnection<K, V>
      extends StatefulRedisPubSubConnectionImpl<K, V> {

    PubSubConnection(
        PubSubEndpoint<K, V> endpoint,
        RedisChannelWriter writer,
        RedisCodec<K, V> codec,
        Duration timeout) {
      super(endpoint, writer, codec, timeout);
    }

    @Override
    protected RedisPubSubCommands<K, V> newRedisSyncCommandsImpl() {
      return null;
    }

    @Override
    protected RedisPubSubReactiveCommandsImpl<K, V> newRedisReactiveCommandsImpl() {
      return null;
    }

    @Override
    public RedisPubSubCommands<K, V> sync() {
      throw new UnsupportedOperationException(WHY);
    }

    @Override
    public RedisPubSubReactiveCommands<K, V> reactive() {
      throw new UnsupportedOperationException(WHY);
    }
  }
}
