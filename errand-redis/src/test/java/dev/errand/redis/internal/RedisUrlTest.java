package dev.errand.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Parsing {@code redis-cluster://} URLs and the durability parameters. */
class RedisUrlTest {

  @Test
  void aClusterUrlListsItsSeedsWithTheirCredentialsAndTls() {
    RedisUrl url =
        RedisUrl.parse(
            "rediss-cluster://app:s3cret@10.0.0.1:7000,10.0.0.2,redis-3:7002?prefix=shop&timeout=3s"
                + "&clientName=web");

    assertThat(url.cluster()).isTrue();
    assertThat(url.prefix()).isEqualTo("shop");
    assertThat(url.timeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(url.clusterSeeds())
        .extracting(RedisURI::getHost, RedisURI::getPort)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("10.0.0.1", 7000),
            org.assertj.core.groups.Tuple.tuple("10.0.0.2", 6379),
            org.assertj.core.groups.Tuple.tuple("redis-3", 7002));
    for (RedisURI seed : url.clusterSeeds()) {
      assertThat(seed.isSsl()).isTrue();
      io.lettuce.core.RedisCredentials credentials =
          seed.getCredentialsProvider().resolveCredentials().block();
      assertThat(credentials.getUsername()).isEqualTo("app");
      assertThat(new String(credentials.getPassword())).isEqualTo("s3cret");
      assertThat(seed.getClientName()).isEqualTo("web");
      assertThat(seed.getTimeout()).isEqualTo(Duration.ofSeconds(3));
    }
    assertThat(url.display()).doesNotContain("s3cret");
  }

  @Test
  void aPlainUrlIsNoCluster() {
    RedisUrl url = RedisUrl.parse("redis://127.0.0.1:6379/2");
    assertThat(url.cluster()).isFalse();
    assertThat(url.clusterSeeds()).isEmpty();
    assertThat(url.durability()).isEqualTo(Durability.NONE);
  }

  @Test
  void aClusterHasOnlyDatabaseZeroAndNoEmptyHost() {
    assertThatThrownBy(() -> RedisUrl.parse("redis-cluster://a:1,b:2/3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("database '3'")
        .hasMessageContaining("only database 0");
    assertThat(RedisUrl.parse("redis-cluster://a:1/0").clusterSeeds()).hasSize(1);
    assertThatThrownBy(() -> RedisUrl.parse("redis-cluster://a:1,,b:2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty host");
    assertThatThrownBy(() -> RedisUrl.parse("redis-cluster://:pw@a:notaport"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("pw@");
  }

  @Test
  void durabilityNamesTheParameterAndTheValue() {
    assertThat(RedisUrl.parse("redis://h/0?durability=replica").durability().replicas()).isOne();
    Durability two =
        RedisUrl.parse("redis://h/0?durability=replicas:2&durability_timeout=500ms").durability();
    assertThat(two.replicas()).isEqualTo(2);
    assertThat(two.timeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(two.waits()).isTrue();
    assertThat(two).hasToString("replicas:2");
    assertThat(RedisUrl.parse("redis://h/0?durability=none").durability().waits()).isFalse();
    for (String bad : new String[] {"all", "replicas:0", "replicas:x", "replicas:17", ""}) {
      assertThatThrownBy(() -> RedisUrl.parse("redis://h/0?durability=" + bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("durability='" + bad + "'");
    }
    assertThatThrownBy(() -> RedisUrl.parse("redis://h/0?durability_timeout=soon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("durability_timeout='soon'");
  }

  @Test
  void aCeleryFleetsRedisRefusesDurability() {
    assertThatThrownBy(() -> CeleryUrl.parse("celery+redis://h:6379/0?durability=replica"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("durability is not supported");
  }
}
