package dev.errand.cli.internal;

import dev.errand.worker.ErrandApp;
import java.io.File;
import java.lang.reflect.Constructor;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the user's {@link ErrandApp} named by {@code --app}, from the class path plus the jars and
 * directories of {@code --classpath}. This is the one place the command line loads a class by name,
 * and only a name the operator typed: never one from a message.
 */
final class AppLoader {

  private AppLoader() {}

  static ErrandApp load(String className, String classpath) {
    return load(className, classpath, ErrandApp.class);
  }

  /**
   * Checks that {@code className} can be loaded as an app without running any of its code (no
   * static initializer, no constructor): for the worker's supervisor, which reports bad usage
   * itself but runs the app only in its worker process.
   *
   * @throws UsageException saying what is wrong
   */
  static void check(String className, String classpath) {
    Class<?> type = find(className, classpath, ErrandApp.class, false);
    try {
      type.getConstructor();
    } catch (NoSuchMethodException e) {
      throw new UsageException(
          "--app class '" + className + "' needs a public no-argument constructor");
    }
  }

  /** Loads and instantiates {@code className}, which must implement {@code type}. */
  static <T> T load(String className, String classpath, Class<T> kind) {
    Class<?> type = find(className, classpath, kind, true);
    try {
      Constructor<?> c = type.getConstructor();
      return kind.cast(c.newInstance());
    } catch (NoSuchMethodException e) {
      throw new UsageException(
          "--app class '" + className + "' needs a public no-argument constructor");
    } catch (ReflectiveOperationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException(
          "--app class '" + className + "' could not be created: " + cause, cause);
    }
  }

  private static Class<?> find(
      String className, String classpath, Class<?> kind, boolean initialize) {
    ClassLoader loader = loader(classpath);
    Class<?> type;
    try {
      type = Class.forName(className, initialize, loader);
    } catch (ClassNotFoundException e) {
      throw new UsageException(
          "--app class '"
              + className
              + "' was not found"
              + (classpath == null ? " (add its jar with --classpath)" : " on " + classpath));
    }
    if (!kind.isAssignableFrom(type)) {
      throw new UsageException(
          "--app class '" + className + "' does not implement " + kind.getName());
    }
    return type;
  }

  private static ClassLoader loader(String classpath) {
    ClassLoader parent = AppLoader.class.getClassLoader();
    if (classpath == null || classpath.isBlank()) {
      return parent;
    }
    List<URL> urls = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      if (entry.isBlank()) {
        continue;
      }
      Path p = Path.of(entry);
      if (!Files.exists(p)) {
        throw new UsageException("--classpath entry '" + entry + "' does not exist");
      }
      try {
        urls.add(p.toUri().toURL());
      } catch (MalformedURLException e) {
        throw new UsageException("--classpath entry '" + entry + "' is not a valid path");
      }
    }
    return new URLClassLoader(urls.toArray(URL[]::new), parent);
  }
}
