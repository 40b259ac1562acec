package dev.errand.worker;

import dev.errand.Routes;

/**
 * A user's project as the {@code errand} command sees it, the way {@code celery -A proj} finds a
 * Celery app: {@code errand worker --app com.example.Tasks} instantiates the class (public, with a
 * public no-argument constructor) and asks it for its tasks and routes.
 *
 * <pre>{@code
 * public final class Tasks implements ErrandApp {
 *   public static final TaskDef<Mail, Void> SEND = TaskDef.of("emails.send", Mail.class);
 *
 *   @Override
 *   public void register(TaskRegistry tasks) {
 *     tasks.handleVoid(SEND, (mail, ctx) -> mailer.send(mail));
 *   }
 * }
 * }</pre>
 */
public interface ErrandApp {

  /** Registers every task definition with its handler. Called once, before a worker starts. */
  void register(TaskRegistry tasks);

  /**
   * Routing rules from task names to queues for producers of this app; {@code errand worker} also
   * gives them to its {@link Worker.Builder#routes routes} (start-time warning, {@code
   * ctx.client()}). Default none.
   */
  default Routes routes() {
    return Routes.none();
  }
}
