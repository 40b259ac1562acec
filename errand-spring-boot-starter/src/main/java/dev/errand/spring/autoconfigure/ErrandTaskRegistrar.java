package dev.errand.spring.autoconfigure;

import dev.errand.RateLimit;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.scheduler.Schedule;
import dev.errand.spring.ErrandSchedule;
import dev.errand.spring.ErrandTask;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskContext;
import dev.errand.worker.TaskHandler;
import dev.errand.worker.TaskRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.util.ClassUtils;

/**
 * Finds the handlers of tasks among the application's beans, as each bean is initialized: methods
 * annotated {@link ErrandTask}, and {@link TaskHandler} beans annotated on their class. Each
 * becomes a registration of the {@link TaskRegistry} the worker runs, its annotation's options the
 * task's default options (for producers too, through {@link #optionsOf}), and its {@link
 * ErrandSchedule}s schedules for the scheduler. A bean proxied by Spring (for
 * {@code @Transactional}, say) is called through its proxy.
 *
 * <p>Runs last among post-processors, so it sees the final proxies. A task name registered twice, a
 * method that cannot be a handler or a bad option fail the bean's creation with the bean, the
 * method and the reason named. Thread-safe.
 */
public final class ErrandTaskRegistrar implements BeanPostProcessor, Ordered {

  private final TaskRegistry registry = new TaskRegistry();
  private final Map<String, TaskOptions> options = new ConcurrentHashMap<>();
  private final Map<String, String> origins = new ConcurrentHashMap<>();
  private final List<Schedule> schedules = new ArrayList<>();
  private final Set<Class<?>> bare = ConcurrentHashMap.newKeySet();

  /** Creates an empty registrar; the auto-configuration declares one. */
  public ErrandTaskRegistrar() {}

  /** The tasks found so far (all of them once the context is refreshed). */
  public TaskRegistry registry() {
    return registry;
  }

  /** The default options of the task named {@code name}, from its annotation; null if none. */
  public TaskOptions optionsOf(String name) {
    return options.get(name);
  }

  /** The schedules declared with {@link ErrandSchedule} so far. */
  public synchronized List<Schedule> schedules() {
    return List.copyOf(schedules);
  }

  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    Class<?> type = AopUtils.getTargetClass(bean);
    if (bean instanceof ErrandApp app) {
      registerApp(beanName, type, app);
    }
    // Most beans carry no annotation: a class once found bare is not looked at again.
    if (bare.contains(type) || !AnnotationUtils.isCandidateClass(type, ErrandTask.class)) {
      return bean;
    }
    ErrandTask onType = AnnotationUtils.findAnnotation(type, ErrandTask.class);
    if (onType != null) {
      registerHandlerBean(bean, beanName, type, onType);
    }
    Map<Method, ErrandTask> methods =
        MethodIntrospector.selectMethods(
            type,
            (MethodIntrospector.MetadataLookup<ErrandTask>)
                m -> AnnotatedElementUtils.findMergedAnnotation(m, ErrandTask.class));
    for (Map.Entry<Method, ErrandTask> e : methods.entrySet()) {
      registerMethod(bean, beanName, e.getKey(), e.getValue());
    }
    if (onType == null && methods.isEmpty()) {
      bare.add(type);
    }
    return bean;
  }

  private synchronized void registerApp(String beanName, Class<?> type, ErrandApp app) {
    try {
      app.register(registry);
    } catch (IllegalArgumentException e) {
      throw new BeanCreationException(
          beanName, "ErrandApp " + type.getName() + ": " + e.getMessage(), e);
    }
  }

  private void registerHandlerBean(Object bean, String beanName, Class<?> type, ErrandTask a) {
    if (!(bean instanceof TaskHandler<?, ?> handler)) {
      throw new BeanCreationException(
          beanName,
          "@ErrandTask(\""
              + a.value()
              + "\") on class "
              + type.getName()
              + ": a class annotated @ErrandTask must implement dev.errand.worker.TaskHandler"
              + " (or put the annotation on a method)");
    }
    ResolvableType generic = ResolvableType.forClass(type).as(TaskHandler.class);
    Type arg = generic.getGeneric(0).getType();
    Type result = generic.getGeneric(1).getType();
    if (generic.getGeneric(0).resolve() == null || generic.getGeneric(1).resolve() == null) {
      throw new BeanCreationException(
          beanName,
          "@ErrandTask(\""
              + a.value()
              + "\") on "
              + type.getName()
              + ": its TaskHandler<A, R> type arguments cannot be resolved; declare them on the"
              + " class (implements TaskHandler<Mail, Void>)");
    }
    @SuppressWarnings("unchecked")
    TaskHandler<Object, Object> h = (TaskHandler<Object, Object>) handler;
    register(beanName, type.getName(), a, arg, result, h);
  }

  private void registerMethod(Object bean, String beanName, Method method, ErrandTask a) {
    String where = method.getDeclaringClass().getName() + "." + method.getName();
    if (Modifier.isStatic(method.getModifiers())) {
      throw new BeanCreationException(
          beanName, "@ErrandTask(\"" + a.value() + "\") on " + where + ": must not be static");
    }
    if (Modifier.isPrivate(method.getModifiers()) && AopUtils.isAopProxy(bean)) {
      // A proxy cannot call a private method of its target: it would run on the empty proxy.
      throw bad(
          beanName, a, where, "must not be private on a proxied bean (make it package-private)");
    }
    Type argType = Void.class;
    int argIndex = -1;
    int ctxIndex = -1;
    Type[] params = method.getGenericParameterTypes();
    for (int i = 0; i < params.length; i++) {
      if (method.getParameterTypes()[i] == TaskContext.class) {
        if (ctxIndex >= 0) {
          throw bad(beanName, a, where, "takes two TaskContext parameters");
        }
        ctxIndex = i;
      } else {
        if (argIndex >= 0) {
          throw bad(
              beanName,
              a,
              where,
              "takes more than one argument; take one (a record holding them all), plus"
                  + " optionally a TaskContext");
        }
        argIndex = i;
        argType = boxed(params[i]);
      }
    }
    Type resultType = boxed(method.getGenericReturnType());
    Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
    invocable.setAccessible(true);
    int ai = argIndex;
    int ci = ctxIndex;
    int n = params.length;
    TaskHandler<Object, Object> handler =
        (argument, ctx) -> {
          Object[] call = new Object[n];
          if (ai >= 0) {
            call[ai] = argument;
          }
          if (ci >= 0) {
            call[ci] = ctx;
          }
          try {
            return invocable.invoke(bean, call);
          } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
              throw ex;
            }
            if (cause instanceof Error err) {
              throw err;
            }
            throw e;
          }
        };
    register(beanName, where, a, argType, resultType, handler);
    for (ErrandSchedule s :
        AnnotatedElementUtils.findMergedRepeatableAnnotations(method, ErrandSchedule.class)) {
      addSchedule(beanName, where, a.value(), argIndex >= 0, s);
    }
  }

  private void register(
      String beanName,
      String where,
      ErrandTask a,
      Type argType,
      Type resultType,
      TaskHandler<Object, Object> handler) {
    String name;
    try {
      name = TaskDef.validName(a.value());
    } catch (IllegalArgumentException e) {
      throw bad(beanName, a, where, e.getMessage());
    }
    TaskOptions taskOptions = optionsFrom(beanName, where, a);
    String earlier = origins.putIfAbsent(name, where);
    if (earlier != null) {
      throw bad(beanName, a, where, "the task is already handled by " + earlier);
    }
    TaskDef<Object, Object> def =
        TaskDef.builder(name, argType, resultType).options(taskOptions).build();
    synchronized (this) {
      try {
        registry.handle(def, handler);
      } catch (IllegalArgumentException e) {
        origins.remove(name, where);
        throw bad(beanName, a, where, e.getMessage() + " (by an ErrandApp)");
      }
    }
    options.put(name, taskOptions);
  }

  private TaskOptions optionsFrom(String beanName, String where, ErrandTask a) {
    TaskOptions.Builder b = TaskOptions.builder();
    try {
      if (!a.queue().isEmpty()) {
        b.queue(a.queue());
      }
      if (a.priority() != -1) {
        b.priority(a.priority());
      }
      if (a.maxRetries() != -1 || !a.retryBackoff().isEmpty()) {
        RetryPolicy.Builder r = RetryPolicy.defaults().toBuilder();
        if (a.maxRetries() != -1) {
          r.maxRetries(a.maxRetries());
        }
        if (!a.retryBackoff().isEmpty()) {
          r.backoff(duration("retryBackoff", a.retryBackoff()));
        }
        b.retry(r.build());
      }
      if (!a.softTimeLimit().isEmpty()) {
        b.softTimeLimit(duration("softTimeLimit", a.softTimeLimit()));
      }
      if (!a.hardTimeLimit().isEmpty()) {
        b.hardTimeLimit(duration("hardTimeLimit", a.hardTimeLimit()));
      }
      if (!a.rateLimit().isEmpty()) {
        b.rateLimit(RateLimit.parse(a.rateLimit()));
      }
      if (a.concurrencyLimit() != 0) {
        b.concurrencyLimit(a.concurrencyLimit());
      }
      if (!a.expires().isEmpty()) {
        b.expires(duration("expires", a.expires()));
      }
      if (a.ignoreResult()) {
        b.ignoreResult(true);
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw bad(beanName, a, where, e.getMessage());
    }
  }

  private synchronized void addSchedule(
      String beanName, String where, String task, boolean takesArgument, ErrandSchedule s) {
    String label = "@ErrandSchedule on " + where;
    try {
      boolean cron = !s.cron().isEmpty();
      boolean every = !s.every().isEmpty();
      if (cron == every) {
        throw new IllegalArgumentException("set exactly one of cron and every");
      }
      String name = s.name();
      if (name.isEmpty()) {
        long same = schedules.stream().filter(x -> x.task().equals(task)).count();
        name = same == 0 ? task : task + "#" + (same + 1);
      }
      Schedule.Builder b = Schedule.builder(name).task(task).enabled(s.enabled());
      if (cron) {
        b.cron(s.cron());
      } else {
        b.every(duration("every", s.every()));
      }
      if (!s.zone().isEmpty()) {
        b.zone(ZoneId.of(s.zone()));
      }
      if (!s.queue().isEmpty()) {
        b.queue(s.queue());
      }
      if (!s.args().isEmpty()) {
        if (!takesArgument) {
          throw new IllegalArgumentException("args are set but the method takes no argument");
        }
        b.args(dev.errand.wire.Wire.mapper().readTree(s.args()));
      }
      Schedule schedule = b.build();
      for (Schedule other : schedules) {
        if (other.name().equals(schedule.name())) {
          throw new IllegalArgumentException("a schedule named " + name + " is already declared");
        }
      }
      schedules.add(schedule);
    } catch (java.io.IOException | RuntimeException e) {
      throw new BeanCreationException(beanName, label + ": " + e.getMessage(), e);
    }
  }

  private static Duration duration(String attribute, String value) {
    try {
      return DurationStyle.detectAndParse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          attribute + " '" + value + "' is not a duration (500ms, 30s, 5m, PT1H)");
    }
  }

  private static Type boxed(Type t) {
    if (t instanceof Class<?> c && c.isPrimitive()) {
      return c == void.class ? Void.class : ClassUtils.resolvePrimitiveIfNecessary(c);
    }
    return t;
  }

  private static BeanCreationException bad(
      String beanName, ErrandTask a, String where, String reason) {
    return new BeanCreationException(
        beanName, "@ErrandTask(\"" + a.value() + "\") on " + where + ": " + reason);
  }
}
