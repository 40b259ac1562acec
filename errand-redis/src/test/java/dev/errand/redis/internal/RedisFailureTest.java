package dev.errand.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Which Redis errors say the server is unavailable, and which refuse the command itself. */
class RedisFailureTest {

  @Test
  void noAnswerAndPassingServerStatesAreUnavailable() {
    assertThat(Redis.unavailable(new RedisCommandTimeoutException("timed out"))).isTrue();
    assertThat(Redis.unavailable(new TimeoutException())).isTrue();
    assertThat(Redis.unavailable(new RedisConnectionException("refused"))).isTrue();
    assertThat(Redis.unavailable(new java.io.IOException("Connection reset by peer"))).isTrue();
    for (String state :
        new String[] {
          "LOADING Redis is loading the dataset in memory",
          "BUSY Redis is busy running a script",
          "OOM command not allowed when used memory > 'maxmemory'.",
          "READONLY You can't write against a read only replica.",
          "MASTERDOWN Link with MASTER is down",
          "CLUSTERDOWN The cluster is down",
          "TRYAGAIN Multiple keys request during rehashing of slot"
        }) {
      assertThat(Redis.unavailable(new RedisCommandExecutionException(state))).as(state).isTrue();
    }
    assertThat(
            Redis.unavailable(new RuntimeException("wrapped", new RedisConnectionException("x"))))
        .isTrue();
  }

  @Test
  void aRefusalOfTheCommandItselfIsNot() {
    assertThat(
            Redis.unavailable(
                new RedisCommandExecutionException(
                    "WRONGTYPE Operation against a key holding the wrong kind of value")))
        .isFalse();
    assertThat(
            Redis.unavailable(
                new RedisCommandExecutionException("ERR Error running script: user_script:12")))
        .isFalse();
    assertThat(Redis.unavailable(new IllegalArgumentException("bad"))).isFalse();
  }
}
