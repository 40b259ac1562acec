package dev.errand.dashboard.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.dashboard.Dashboard;
import dev.errand.wire.Wire;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaskerTest {

  final Masker masker = new Masker(Dashboard.DEFAULT_MASKED);

  static JsonNode json(String text) throws Exception {
    return Wire.mapper().readTree(text);
  }

  @Test
  void namesMatchWhateverTheirCaseAndSeparators() throws Exception {
    JsonNode masked =
        masker.mask(
            json(
                "{\"API-KEY\":\"a\",\"x_api_key\":\"b\",\"apiKey\":\"c\",\"Api Key\":\"d\","
                    + "\"PWD\":\"e\",\"db.Password\":\"f\",\"client_secret\":\"g\","
                    + "\"refreshToken\":\"h\",\"aws_credentials\":{\"id\":\"i\"},"
                    + "\"private-key\":\"j\",\"Authorization\":\"Bearer k\",\"to\":\"ada\","
                    + "\"passphrase\":null}"));

    assertThat(masked.toString())
        .isEqualTo(
            "{\"API-KEY\":\"****\",\"x_api_key\":\"****\",\"apiKey\":\"****\","
                + "\"Api Key\":\"****\",\"PWD\":\"****\",\"db.Password\":\"****\","
                + "\"client_secret\":\"****\",\"refreshToken\":\"****\","
                + "\"aws_credentials\":\"****\",\"private-key\":\"****\","
                + "\"Authorization\":\"****\",\"to\":\"ada\",\"passphrase\":null}");
  }

  @Test
  void masksAtAnyDepthAndInsideJsonHeldInStrings() throws Exception {
    JsonNode masked =
        masker.mask(
            json(
                "{\"args\":[{\"db\":{\"password\":\"p1\"}}],"
                    + "\"body\":\"{\\\"kwargs\\\":{\\\"token\\\":\\\"t1\\\",\\\"n\\\":1}}\","
                    + "\"twice\":\"[\\\"{\\\\\\\"secret\\\\\\\":\\\\\\\"s1\\\\\\\"}\\\"]\","
                    + "\"plain\":\"{\\\"to\\\": \\\"ada\\\"}\"}"));

    String text = masked.toString();
    assertThat(text).doesNotContain("p1", "t1", "s1").contains("\\\"n\\\":1");
    assertThat(masked.get("args").get(0).get("db").get("password").asText()).isEqualTo("****");
    assertThat(json(masked.get("body").asText()).get("kwargs").get("token").asText())
        .isEqualTo("****");
    // JSON without a secret is left as it was written, spaces and all.
    assertThat(masked.get("plain").asText()).isEqualTo("{\"to\": \"ada\"}");
  }

  @Test
  void masksPairsInTextThatIsNotJson() {
    assertThat(masker.mask("login failed: password=hunter2, user=ada"))
        .isEqualTo("login failed: password=****, user=ada");
    assertThat(masker.mask("{\"token\": \"abc\", \"to\": \"ada\"  <- not JSON, cut off"))
        .isEqualTo("{\"token\": \"****\", \"to\": \"ada\"  <- not JSON, cut off");
    assertThat(masker.mask("GET /hook?api_key=k3y&page=2 failed"))
        .isEqualTo("GET /hook?api_key=****&page=2 failed");
    assertThat(masker.mask("header Authorization: Bearer eyJhbGci.x.y was refused"))
        .isEqualTo("header Authorization: **** was refused");
    assertThat(masker.mask("Your password: hunter2")).isEqualTo("Your password: ****");
    assertThat(masker.mask("api key: k3y")).isEqualTo("api key: ****");
    assertThat(masker.mask("the token expired at 10:32")).isEqualTo("the token expired at 10:32");
    assertThat(masker.mask("PASSWORD = 'hunter 2' then")).isEqualTo("PASSWORD = '****' then");
    assertThat(masker.mask("bad request: secret=abc")).isEqualTo("bad request: secret=****");
    assertThat(masker.mask("cannot reach redis://:s3cr3t@cache:6379/0 nor https://bob:pw@x.org"))
        .isEqualTo("cannot reach redis://:****@cache:6379/0 nor https://bob:****@x.org");
    assertThat(masker.mask("log line {\\\"password\\\":\\\"pw\\\"} as escaped JSON"))
        .isEqualTo("log line {\\\"password\\\":\\\"****\\\"} as escaped JSON");
    assertThat(masker.mask("java.io.IOException: disk full at 10:32"))
        .isEqualTo("java.io.IOException: disk full at 10:32");
  }

  @Test
  void moreNamesAddToTheDefaults() throws Exception {
    List<String> names = new ArrayList<>(Dashboard.DEFAULT_MASKED);
    names.add("iban");
    Masker more = new Masker(names);

    assertThat(more.mask(json("{\"IBAN\":\"DE89\",\"password\":\"p\",\"to\":\"a\"}")).toString())
        .isEqualTo("{\"IBAN\":\"****\",\"password\":\"****\",\"to\":\"a\"}");
  }

  @Test
  void aBlankNameIsRefusedRatherThanMaskingEverything() {
    assertThatThrownBy(() -> new Masker(List.of("password", " _ ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("' _ '");
  }

  @Test
  void theInputIsNotChanged() throws Exception {
    JsonNode in = json("{\"password\":\"p\"}");
    masker.mask(in);
    assertThat(in.get("password").asText()).isEqualTo("p");
  }
}
