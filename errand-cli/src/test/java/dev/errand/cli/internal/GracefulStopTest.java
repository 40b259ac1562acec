package dev.errand.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The stop of a long-running command, driven by {@link GracefulStop#requestStop()} as a signal
 * would (the real signals are sent in the process ITs; here the test JVM's handlers stay its own).
 */
class GracefulStopTest {

  final List<String> log = new CopyOnWriteArrayList<>();
  final List<Integer> forced = new CopyOnWriteArrayList<>();

  GracefulStop stop() {
    return new GracefulStop(forced::add, false).listen();
  }

  @Test
  void stopsThePartsInOrderOnTheWaitingThread() throws Exception {
    GracefulStop stop =
        stop()
            .then("a", () -> log.add("a " + Thread.currentThread().getName()))
            .then("b", () -> log.add("b " + Thread.currentThread().getName()));
    stop.requestStop(); // before the wait, as a signal during start-up: the wait returns at once

    assertThat(stop.awaitStop()).isTrue();
    String me = Thread.currentThread().getName();
    assertThat(log).containsExactly("a " + me, "b " + me);
    assertThat(forced).isEmpty();
  }

  @Test
  void aPartThatFailsToStopDoesNotKeepTheOthersOpen() throws Exception {
    GracefulStop stop =
        stop()
            .then(
                "dashboard",
                () -> {
                  throw new IllegalStateException("port stuck");
                })
            .then("backend", () -> log.add("backend closed"));
    stop.requestStop();

    assertThat(stop.awaitStop()).isFalse();
    assertThat(log).containsExactly("backend closed");
  }

  @Test
  void aSecondRequestWhileStoppingExitsAtOnceWithTheSignalsStatus() throws Exception {
    CountDownLatch stopping = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    GracefulStop stop =
        stop()
            .then(
                "worker",
                () -> {
                  stopping.countDown();
                  try {
                    release.await(10, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    Thread waiting =
        new Thread(
            () -> {
              try {
                stop.awaitStop();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    waiting.start();
    stop.requestStop();
    assertThat(stopping.await(10, TimeUnit.SECONDS)).isTrue();

    stop.requestStop();

    assertThat(forced).containsExactly(143);
    release.countDown();
    waiting.join(10_000);
    assertThat(waiting.isAlive()).isFalse();
  }
}
