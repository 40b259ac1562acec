package dev.errand.cli.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.errand.spi.Broker;
import dev.errand.wire.Wire;
import dev.errand.worker.HeldRetry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retries a recycled worker process could not send itself (their previous attempts may still
 * run on its stuck threads), handed to its supervisor in a JSON file that the supervisor reads once
 * the process has exited.
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
}
