package dev.errand.test;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The Spring application context of a test that runs under Spring's JUnit extension
 * ({@code @SpringBootTest}, {@code @SpringJUnitConfig}), for {@link ErrandExtension}. Spring's
 * classes are touched only when the test uses that extension, so errand-test needs no Spring
 * otherwise.
 */
final class SpringContexts {

  private static final String SPRING_EXTENSION =
      "org.springframework.test.context.junit.jupiter.SpringExtension";

  private SpringContexts() {}

  /** Whether the test (or a class enclosing it) runs under Spring's extension. */
  static boolean active(ExtensionContext context) {
    for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getEnclosingClass()) {
      List<Class<? extends Extension>> used = new ArrayList<>();
      for (ExtendWith e : AnnotationSupport.findRepeatableAnnotations(c, ExtendWith.class)) {
        used.addAll(List.of(e.value()));
      }
      for (Class<? extends Extension> e : used) {
        if (e.getName().equals(SPRING_EXTENSION)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The context's only bean of {@code type}, or null if it has none or several. */
  static <T> T bean(ExtensionContext context, Class<T> type) {
    return Holder.bean(context, type);
  }

  /** Loaded only once a Spring test asks: refers to Spring's types. */
  private static final class Holder {
    static <T> T bean(ExtensionContext context, Class<T> type) {
      org.springframework.context.ApplicationContext ctx =
          org.springframework.test.context.junit.jupiter.SpringExtension.getApplicationContext(
              context);
      return ctx.getBeanProvider(type).getIfUnique();
    }
  }
}
