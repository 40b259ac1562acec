package com.example.readme;

// readme:begin results
import dev.errand.ResultTimeoutException;
import dev.errand.TaskFailedException;
import dev.errand.TaskRevokedException;
import java.time.Duration;
// readme:end

/** The README's "Results": what waiting for a result can end in. */
final class Results {
  private Results() {}

  static String outcome(dev.errand.AsyncResult<Void> sent) {
    // readme:begin results
    String outcome;
    try {
      sent.get(Duration.ofSeconds(10));        // waits for a notification, never polls
      outcome = "sent";
    } catch (TaskFailedException e) {          // failed after its retries
      outcome = "failed: " + e.remoteType() + ": " + e.remoteMessage();   // and e.traceback()
    } catch (TaskRevokedException e) {         // revoked, or not started before it expired
      outcome = "revoked: " + e.reason();
    } catch (ResultTimeoutException e) {       // not ready yet; the task goes on
      outcome = "still " + e.lastState();      // e.getMessage() says if no worker consumes its queue
    } catch (InterruptedException e) {         // get blocks, so it may be interrupted
      Thread.currentThread().interrupt();
      outcome = "interrupted";
    }
    // readme:end
    return outcome;
  }
}
