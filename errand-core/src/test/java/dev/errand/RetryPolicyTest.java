package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.wire.MessageOptions;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  final RetryPolicy policy =
      RetryPolicy.builder()
          .maxRetries(10)
          .backoff(Duration.ofSeconds(2))
          .backoffMax(Duration.ofSeconds(60))
          .build();

  @Test
  void defaultsAreThreeRetriesOneSecondDoublingToTenMinutesWithJitter() {
    RetryPolicy d = RetryPolicy.defaults();
    assertThat(d.maxRetries()).isEqualTo(3);
    assertThat(d.backoff()).isEqualTo(Duration.ofSeconds(1));
    assertThat(d.backoffMax()).isEqualTo(Duration.ofMinutes(10));
    assertThat(d.jitter()).isTrue();
    assertThat(d.hasRetriesLeft(2)).isTrue();
    assertThat(d.hasRetriesLeft(3)).isFalse();
  }

  @Test
  void boundDoublesFromTheBaseUpToTheCap() {
    assertThat(policy.backoffBound(0)).isEqualTo(Duration.ofSeconds(2));
    assertThat(policy.backoffBound(1)).isEqualTo(Duration.ofSeconds(4));
    assertThat(policy.backoffBound(4)).isEqualTo(Duration.ofSeconds(32));
    assertThat(policy.backoffBound(5)).isEqualTo(Duration.ofSeconds(60));
    assertThat(policy.backoffBound(63)).isEqualTo(Duration.ofSeconds(60));
    assertThat(policy.backoffBound(10_000)).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void fullJitterDrawsUniformlyBetweenZeroAndTheBound() {
    Random random = new Random(42);
    for (int retry = 0; retry < 8; retry++) {
      Duration bound = policy.backoffBound(retry);
      Set<Duration> seen = new HashSet<>();
      long sum = 0;
      int draws = 2_000;
      for (int i = 0; i < draws; i++) {
        Duration d = policy.delay(retry, random);
        assertThat(d).isBetween(Duration.ZERO, bound);
        seen.add(d);
        sum += d.toMillis();
      }
      // Spread, not a constant: many distinct values, mean near half the bound.
      assertThat(seen.size()).isGreaterThan(draws / 4);
      assertThat((double) sum / draws)
          .isCloseTo(bound.toMillis() / 2.0, org.assertj.core.data.Percentage.withPercentage(10));
    }
  }

  @Test
  void withoutJitterTheDelayIsTheBound() {
    RetryPolicy exact = policy.toBuilder().jitter(false).build();
    Random random = new Random(1);
    assertThat(exact.delay(0, random)).isEqualTo(Duration.ofSeconds(2));
    assertThat(exact.delay(3, random)).isEqualTo(Duration.ofSeconds(16));
    assertThat(exact.delay(9, random)).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void errorsAreNeverRetriedAndEveryExceptionIsByDefault() {
    assertThat(policy.retries(new OutOfMemoryError())).isFalse();
    assertThat(policy.retries(new AssertionError())).isFalse();
    assertThat(policy.retries(new IOException())).isTrue();
    assertThat(policy.retries(new IllegalStateException())).isTrue();
  }

  @Test
  void retryOnMatchesTheClassAndItsSubclassesOnly() {
    RetryPolicy io = policy.toBuilder().retryOn(IOException.class).build();
    assertThat(io.retries(new IOException())).isTrue();
    assertThat(io.retries(new SocketTimeoutException())).isTrue();
    assertThat(io.retries(new UncheckedIOException(new IOException()))).isFalse();
    assertThat(io.retries(new IllegalArgumentException())).isFalse();
  }

  @Test
  void neverRetryWinsOverRetryOn() {
    RetryPolicy p =
        policy.toBuilder()
            .retryOn(IOException.class)
            .neverRetry(FileNotFoundException.class)
            .build();
    assertThat(p.retries(new SocketTimeoutException())).isTrue();
    assertThat(p.retries(new FileNotFoundException())).isFalse();
  }

  @Test
  void classificationSurvivesTheWireWithoutLoadingClasses() {
    RetryPolicy p =
        policy.toBuilder()
            .retryOn(IOException.class)
            .neverRetry(FileNotFoundException.class)
            .build();
    RetryPolicy back = MessageOptions.RetrySpec.of(p).toPolicy();
    assertThat(back).isEqualTo(p);
    assertThat(back.retryOn()).containsExactly("java.io.IOException");
    assertThat(back.retries(new SocketTimeoutException())).isTrue();
    assertThat(back.retries(new FileNotFoundException())).isFalse();
    // A class the receiver does not have is only a name: nothing to load, nothing matches.
    RetryPolicy foreign = RetryPolicy.builder().retryOnNames(Set.of("com.example.Gone")).build();
    assertThat(foreign.retries(new IOException())).isFalse();
  }

  @Test
  void badValuesAreRefusedWithTheValueNamed() {
    assertThatThrownBy(() -> RetryPolicy.builder().maxRetries(-1))
        .hasMessage("maxRetries must be >= 0 but was -1");
    assertThatThrownBy(() -> RetryPolicy.builder().backoff(Duration.ofSeconds(-1)))
        .hasMessage("backoff must be >= 0 but was PT-1S");
    assertThatThrownBy(
            () ->
                RetryPolicy.builder()
                    .backoff(Duration.ofSeconds(10))
                    .backoffMax(Duration.ofSeconds(5))
                    .build())
        .hasMessage("backoffMax must be >= backoff (PT10S) but was PT5S");
    assertThatThrownBy(() -> policy.backoffBound(-1)).hasMessage("retries must be >= 0 but was -1");
  }
}
