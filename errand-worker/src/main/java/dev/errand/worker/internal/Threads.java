package dev.errand.worker.internal;

import dev.errand.worker.Pool;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for the two pools. Virtual threads are reached through method handles so that
 * the same jar runs on JDK 17 (platform threads only) and uses virtual threads on JDK 21+.
 */
public final class Threads {

  private Threads() {}

  /**
   * A factory of daemon threads named {@code prefix-N} for {@code pool}.
   *
   * @throws IllegalStateException if the pool is virtual and this JVM is older than 21
   */
  public static ThreadFactory factory(Pool pool, String prefix) {
    if (pool == Pool.VIRTUAL) {
      return virtual(prefix);
    }
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static ThreadFactory virtual(String prefix) {
    if (!Pool.VIRTUAL.isAvailable()) {
      throw new IllegalStateException(
          "pool 'virtual' needs Java 21 or newer but this JVM is Java "
              + Runtime.version().feature()
              + "; use pool 'threads'");
    }
    try {
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      Class<?> builderType = Class.forName("java.lang.Thread$Builder");
      Class<?> ofVirtualType = Class.forName("java.lang.Thread$Builder$OfVirtual");
      MethodHandle ofVirtual =
          lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtualType));
      MethodHandle name =
          lookup.findVirtual(
              builderType, "name", MethodType.methodType(builderType, String.class, long.class));
      MethodHandle factory =
          lookup.findVirtual(builderType, "factory", MethodType.methodType(ThreadFactory.class));
      Object builder = ofVirtual.invoke();
      builder = name.invoke(builder, prefix + "-", 1L);
      return (ThreadFactory) factory.invoke(builder);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot create virtual threads on this JVM", e);
    }
  }
}
