package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class OptionsTest {

  @Test
  void routesMatchGlobsInOrderFirstMatchWins() {
    Routes r =
        Routes.builder()
            .route("emails.send", "priority-mail")
            .route("emails.*", "email")
            .route("reports.??ily", "reports")
            .route("*", "catch-all")
            .build();
    assertThat(r.queueFor("emails.send")).hasValue("priority-mail");
    assertThat(r.queueFor("emails.digest.weekly")).hasValue("email");
    assertThat(r.queueFor("reports.daily")).hasValue("reports");
    assertThat(r.queueFor("reports.hourly")).hasValue("catch-all");
    assertThat(Routes.builder().route("emails.*", "email").build().queueFor("emailsXsend"))
        .isEmpty();
    assertThat(Routes.none().queueFor("anything")).isEmpty();
  }

  @Test
  void taskOptionsRefuseBadValuesNamingThem() {
    assertThatThrownBy(() -> TaskOptions.builder().priority(10))
        .hasMessage("priority must be 0-9 but was 10");
    assertThatThrownBy(() -> TaskOptions.builder().countdown(Duration.ofSeconds(-5)))
        .hasMessage("countdown must be >= 0 but was PT-5S");
    assertThatThrownBy(() -> TaskOptions.builder().expires(Duration.ZERO))
        .hasMessage("expires must be > 0 but was PT0S");
    assertThatThrownBy(() -> TaskOptions.builder().queue(" "))
        .hasMessage("queue must be 1-200 characters without white space but was ' '");
    assertThatThrownBy(() -> TaskOptions.builder().idempotencyKey(""))
        .hasMessageContaining("idempotencyKey must be 1-200 non-blank characters");
  }

  @Test
  void callOptionsOverrideTaskOptionsOneByOne() {
    TaskOptions task =
        TaskOptions.builder()
            .queue("q")
            .priority(2)
            .softTimeLimit(Duration.ofSeconds(5))
            .header("a", "1")
            .build();
    TaskOptions call = TaskOptions.builder().priority(8).header("b", "2").build();
    TaskOptions eff = task.overriddenBy(call);
    assertThat(eff.queue()).isEqualTo("q");
    assertThat(eff.priority()).isEqualTo(8);
    assertThat(eff.softTimeLimit()).isEqualTo(Duration.ofSeconds(5));
    assertThat(eff.headers()).containsEntry("a", "1").containsEntry("b", "2");
    assertThat(task.overriddenBy(TaskOptions.none())).isSameAs(task);
  }

  @Test
  void taskNamesAreDottedWordsAsErrandAndCeleryNameThem() {
    assertThat(TaskDef.of("emails.send", String.class).name()).isEqualTo("emails.send");
    assertThat(TaskDef.of("reports.daily_sales", String.class).name())
        .isEqualTo("reports.daily_sales");
    for (String celery :
        new String[] {
          "proj.tasks.SendEmail", "billing.tasks:Invoice", "_private.task", "a-b.c$d"
        }) {
      assertThat(TaskDef.of(celery, String.class).name()).isEqualTo(celery);
    }
    for (String bad :
        new String[] {"emails..send", "", "a b", ".x", "x.", "1task", "t\n", "<script>", "a/b"}) {
      assertThatThrownBy(() -> TaskDef.of(bad, String.class))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'");
    }
  }

  @Test
  void idsAreTimeOrderedUuidVersion7() {
    String a = dev.errand.internal.Ids.newId(1_000);
    String b = dev.errand.internal.Ids.newId(2_000);
    java.util.UUID u = java.util.UUID.fromString(a);
    assertThat(u.version()).isEqualTo(7);
    assertThat(u.variant()).isEqualTo(2);
    assertThat(a).isLessThan(b);
    java.util.Set<String> many = new java.util.HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      many.add(dev.errand.internal.Ids.newId(5_000));
    }
    assertThat(many).hasSize(100_000);
  }
}
