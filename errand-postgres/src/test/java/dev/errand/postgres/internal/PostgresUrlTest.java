package dev.errand.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PostgresUrlTest {

  @Test
  void readsUserPasswordHostDatabaseAndErrandsOwnParameters() {
    PostgresUrl u =
        PostgresUrl.parse(
            "postgresql://app:p%40ss@db.internal:5433/shop?schema=jobs&pool=20&sslmode=require");
    assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:5433/shop?sslmode=require");
    assertThat(u.user()).isEqualTo("app");
    assertThat(u.password()).isEqualTo("p@ss");
    assertThat(u.schema()).isEqualTo("jobs");
    assertThat(u.poolSize()).isEqualTo(20);
    assertThat(u.migrate()).isTrue();
    assertThat(u.redacted()).doesNotContain("p%40ss").contains("***");
  }

  @Test
  void defaultsAndOtherForms() {
    PostgresUrl u = PostgresUrl.parse("postgres://localhost/app");
    assertThat(u.schema()).isEqualTo(PostgresUrl.DEFAULT_SCHEMA);
    assertThat(u.poolSize()).isEqualTo(PostgresUrl.DEFAULT_POOL_SIZE);
    assertThat(u.user()).isNull();
    PostgresUrl jdbc =
        PostgresUrl.parse(
            "jdbc:postgresql://h1:5432,h2:5432/app?user=u&password=secret&schema=e&migrate=false");
    assertThat(jdbc.jdbcUrl()).isEqualTo("jdbc:postgresql://h1:5432,h2:5432/app");
    assertThat(jdbc.user()).isEqualTo("u");
    assertThat(jdbc.password()).isEqualTo("secret");
    assertThat(jdbc.migrate()).isFalse();
    assertThat(jdbc.redacted()).doesNotContain("secret");
  }

  @Test
  void badValuesAreNamedAndThePasswordHidden() {
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://u:secret@h/db?schema=Bad-Name"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("schema")
        .hasMessageContaining("Bad-Name")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://h/db?pool=1"))
        .hasMessageContaining("pool must be 2-1000")
        .hasMessageContaining("'1'");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://h:99999/db"))
        .hasMessageContaining("bad port '99999'");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://h/db?migrate=yes"))
        .hasMessageContaining("migrate must be true or false");
    assertThatThrownBy(() -> PostgresUrl.parse("mysql://h/db"))
        .hasMessageContaining("not a PostgreSQL URL");
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql:///db"))
        .hasMessageContaining("names no host");
  }
}
