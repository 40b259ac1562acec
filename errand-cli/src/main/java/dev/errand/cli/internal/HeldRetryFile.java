package dev.errand.cli.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.wire.Wire;
import dev.errand.worker.HeldRetry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retries a recycled worker process could not send itself (their previous attempts may still
 * run on its stuck threads), handed to its supervisor in a JSON file that is read once the process
 * has exited: by {@link WorkerSupervisor}, or by {@code errand worker --send-held-retries FILE},
 * which the launcher's supervisor in the shell runs.
 */
final class HeldRetryFile {

  private static final Logger log = LoggerFactory.getLogger(HeldRetryFile.class);
  private static final TypeReference<List<HeldRetry>> TYPE = new TypeReference<>() {};

  private HeldRetryFile() {}

  /** Writes {@code held} to {@code file} atomically (a half-written file is never read). */
  static void write(Path file, List<HeldRetry> held) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, Wire.mapper().writeValueAsBytes(held));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Reads what {@link #write} wrote; empty if nothing was written. */
  static List<HeldRetry> read(Path file) throws IOException {
    if (!Files.exists(file) || Files.size(file) == 0) {
      return List.of();
    }
    return Wire.mapper().readValue(file.toFile(), TYPE);
  }

  /**
   * Sends every held retry: call only once the process that held them has exited.
   *
   * @return how many were sent (a retry whose lease already ran out is not)
   */
  static int sendAll(List<HeldRetry> held, Broker broker) {
    int sent = 0;
    for (HeldRetry r : held) {
      try {
        if (r.send(broker)) {
          sent++;
        } else {
          log.warn("the lease of task [{}] ran out before its held retry was sent", r.id());
        }
      } catch (RuntimeException e) {
        log.error(
            "could not send the held retry of task [{}]; it returns after its lease", r.id(), e);
      }
    }
    return sent;
  }

  /**
   * Sends the retries in {@code file}, if any, and deletes it: call only once the process that
   * wrote it has exited. The backend is opened only when there is something to send.
   *
   * @return false if they could not be read or sent (they come back when their leases run out)
   */
  static boolean sendFrom(Path file, Supplier<Backend> backend) {
    try {
      List<HeldRetry> held = read(file);
      if (!held.isEmpty()) {
        try (Backend b = backend.get()) {
          int sent = sendAll(held, b.broker());
          log.info(
              "sent {} of {} retries held for threads stuck in the exited worker process",
              sent,
              held.size());
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      log.error("could not send the held retries; they come back when their leases run out", e);
      return false;
    } finally {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // a temp file left behind
      }
    }
  }
}
