package dev.errand.examples.spring;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Sends a report to be built, and tells how far it is. */
@RestController
public class ReportsController {

  private final Client client;

  public ReportsController(Client client) {
    this.client = client;
  }

  /** {@code POST /reports?days=7}: 202 with the task's id. */
  @PostMapping("/reports")
  public ResponseEntity<Map<String, String>> request(@RequestParam(defaultValue = "7") int days) {
    if (days < 1 || days > 366) {
      return ResponseEntity.badRequest().body(Map.of("error", "days must be 1..366"));
    }
    AsyncResult<Reports.Report> sent = client.enqueue(Reports.BUILD, new Reports.Request(days));
    return ResponseEntity.accepted().body(Map.of("id", sent.id(), "status", "/reports/" + sent.id()));
  }

  /** {@code GET /reports/{id}}: the task's state, progress and, once done, the report. */
  @GetMapping("/reports/{id}")
  public Map<String, Object> status(@PathVariable String id) {
    TaskStatus s = client.result(id).status();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", id);
    out.put("state", s.state().name());
    JsonNode progress = s.progress();
    if (progress != null) {
      out.put("progress", progress);
    }
    if (s.result() != null) {
      out.put("report", s.result());
    }
    if (s.error() != null) {
      out.put("error", s.error().message());
    }
    return out;
  }
}
