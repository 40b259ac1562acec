package dev.errand.dashboard.internal;

import dev.errand.Client;
import dev.errand.workflow.WorkflowState;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The workflow endpoints: a sent workflow as a whole ({@link Client#workflow}: every task in order
 * with its state, and the one holding it up), and revoking every task of it not finished yet.
 */
final class WorkflowApi {

  private final Client client;

  WorkflowApi(Client client) {
    this.client = client;
  }

  void register(RoutesConfig r) {
    r.get("/api/workflows/{id}", ctx -> ctx.json(read(ctx.pathParam("id"))));
    r.post("/api/workflows/{id}/revoke", this::revoke);
  }

  private WorkflowState read(String id) {
    return client
        .workflow(id)
        .orElseThrow(() -> new NoSuchElementException("no workflow with id " + id));
  }

  private void revoke(Context ctx) {
    String id = ctx.pathParam("id");
    int tasks = read(id).steps().size(); // an unknown id is a 404, not "0 revoked"
    ctx.json(Map.of("id", id, "revoked", client.revokeWorkflow(id), "tasks", tasks));
  }
}
