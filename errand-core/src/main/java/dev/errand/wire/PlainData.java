package dev.errand.wire;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.type.TypeFactory;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

/**
 * Tells plain data, which a producer may send as task arguments, from everything else. A value is
 * plain data when it is:
 *
 * <ul>
 *   <li>a {@code boolean}, {@code char}, {@code byte}, {@code short}, {@code int}, {@code long},
 *       {@code float} or {@code double}, or its box;
 *   <li>a {@link String}, {@link BigInteger}, {@link BigDecimal}, {@link UUID} or {@link URI};
 *   <li>an enum constant (written as its name);
 *   <li>a {@code java.time} value: {@link Instant}, {@link LocalDate}, {@link LocalTime}, {@link
 *       LocalDateTime}, {@link OffsetDateTime}, {@link OffsetTime}, {@link ZonedDateTime}, {@link
 *       Year}, {@link YearMonth}, {@link MonthDay}, {@link Period}, a {@link ZoneId} (all written
 *       as ISO-8601 text), or a {@link Duration} (written as seconds, {@code 1.5});
 *   <li>a Jackson {@link JsonNode}, taken as it is;
 *   <li>a record whose components are all plain data;
 *   <li>an array or a {@link Collection} (list, set...) of plain data ({@code byte[]} is written as
 *       Base64 text), or a {@link Map} whose keys are strings, enums, {@code byte}/{@code
 *       short}/{@code int}/{@code long} boxes or UUIDs and whose values are plain data;
 *   <li>{@code null}, inside any of the above (a record component, an element, a map value).
 * </ul>
 *
 * <p>Anything else is refused, because Jackson would write it from its getters: a {@link Thread}
 * becomes kilobytes of its internals, a JavaBean or POJO its getters (whatever they compute), a
 * {@code java.util.Date} a text the other side must guess at, an {@link java.util.Optional} fails
 * deep inside Jackson. Send a record instead (or a {@link JsonNode} built by hand, or raw JSON with
 * {@code Client.send}).
 *
 * <p>The declared types are what is checked: a record with a {@code Thread} component is refused
 * even while that component is null, the same way every time. Where a declaration says too little
 * (a component of type {@code Object}, {@code Number}, an interface, a raw {@code List}), the
 * values found there are checked on each call. The analysis is done once per class and cached, so a
 * record whose components are all declared as plain data costs one cache lookup per call.
 *
 * <p>Thread-safe.
 */
public final class PlainData {

  private static final Set<Class<?>> SCALARS =
      Set.of(
          String.class,
          Boolean.class,
          Character.class,
          Byte.class,
          Short.class,
          Integer.class,
          Long.class,
          Float.class,
          Double.class,
          BigInteger.class,
          BigDecimal.class,
          UUID.class,
          URI.class,
          Instant.class,
          LocalDate.class,
          LocalTime.class,
          LocalDateTime.class,
          OffsetDateTime.class,
          OffsetTime.class,
          ZonedDateTime.class,
          Duration.class,
          Period.class,
          Year.class,
          YearMonth.class,
          MonthDay.class);

  private static final Set<Class<?>> KEYS =
      Set.of(String.class, Byte.class, Short.class, Integer.class, Long.class, UUID.class);

  /** What the refusal message lists as plain data. */
  static final String DEFINITION =
      "plain data is records, strings, numbers, booleans, enums, java.time values, UUIDs, URIs,"
          + " JsonNode, and arrays, collections and maps of them (see dev.errand.wire.PlainData)";

  /** A check of a value of one declared type; called with non-null values only. */
  private interface Check {
    void check(Object value);
  }

  private static final Check NOTHING = value -> {};

  /** Where a declaration says too little: check the value by its own class. */
  private static final Check BY_VALUE = PlainData::checkByClass;

  /** Per class: a {@link Check} or, for a type that is not plain data, its {@link Refusal}. */
  private static final ClassValue<Object> CLASSES =
      new ClassValue<>() {
        @Override
        protected Object computeValue(Class<?> type) {
          Set<Class<?>> visiting = VISITING.get();
          visiting.add(type);
          try {
            return analyse(TYPES.constructType(type), type);
          } catch (NotPlain e) {
            return new Refusal(e);
          } finally {
            visiting.remove(type);
          }
        }
      };

  /** The records being analysed on this thread, so a record that contains itself terminates. */
  private static final ThreadLocal<Set<Class<?>>> VISITING = ThreadLocal.withInitial(HashSet::new);

  private static final TypeFactory TYPES = Wire.mapper().getTypeFactory();

  private PlainData() {}

  /**
   * Checks that {@code value} is plain data. Null is plain data.
   *
   * @throws IllegalArgumentException naming where the first value that is not plain data is (such
   *     as {@code SendEmail.attachments[2].owner}) and its type
   */
  public static void check(Object value) {
    if (value == null) {
      return;
    }
    try {
      BY_VALUE.check(value);
    } catch (NotPlain e) {
      throw new IllegalArgumentException(e.describe(value.getClass()) + "; " + DEFINITION);
    }
  }

  /** Whether values of {@code type} are always plain data, whatever they hold. */
  static boolean isAlwaysPlain(Class<?> type) {
    return CLASSES.get(type) == NOTHING;
  }

  /** Checks a value by its runtime class: the cached verdict, one lookup. */
  private static void checkByClass(Object value) {
    Object c = CLASSES.get(value.getClass());
    if (c instanceof Refusal r) {
      throw r.again();
    }
    ((Check) c).check(value);
  }

  /** During an analysis: the check of values declared as {@code type}. */
  private static Check forClass(Class<?> type) {
    if (VISITING.get().contains(type)) {
      // A record that (through its components) contains itself: check such values when met, by
      // their class, whose verdict is cached by then.
      return BY_VALUE;
    }
    Object c = CLASSES.get(type);
    if (c instanceof Refusal r) {
      throw r.again();
    }
    return (Check) c;
  }

  /** The check of values declared as {@code t} ({@code raw} is its class). */
  private static Check analyse(JavaType t, Class<?> raw) {
    if (raw.isPrimitive() || SCALARS.contains(raw) || isEnum(raw) || isLeafSubtype(raw)) {
      return NOTHING;
    }
    if (t.isArrayType() || t.isCollectionLikeType()) {
      Check element = step("[]", () -> declared(t.getContentType()));
      return element == NOTHING ? NOTHING : new Elements(element);
    }
    if (t.isMapLikeType()) {
      Check key = mapKey(t.getKeyType());
      Check value = step("[]", () -> declared(t.getContentType()));
      return key == NOTHING && value == NOTHING ? NOTHING : new Entries(key, value);
    }
    if (t.isReferenceType()
        || raw == Optional.class
        || raw == OptionalInt.class
        || raw == OptionalLong.class
        || raw == OptionalDouble.class) {
      throw new NotPlain(
          "a " + raw.getName() + " (not plain data: use the value itself, or null for none)");
    }
    if (raw.isRecord()) {
      return components(raw);
    }
    if (raw == Object.class || raw.isInterface() || Modifier.isAbstract(raw.getModifiers())) {
      return BY_VALUE;
    }
    throw new NotPlain("a " + raw.getName());
  }

  private static Check declared(JavaType t) {
    Class<?> raw = t.getRawClass();
    // Generic containers are analysed with their element types; everything else once per class.
    return t.isContainerType() || t.isReferenceType() ? analyse(t, raw) : forClass(raw);
  }

  private static boolean isEnum(Class<?> c) {
    return Enum.class.isAssignableFrom(c) && c != Enum.class;
  }

  private static boolean isLeafSubtype(Class<?> c) {
    return JsonNode.class.isAssignableFrom(c)
        || ZoneId.class.isAssignableFrom(c)
        || c != BigInteger.class && BigInteger.class.isAssignableFrom(c)
        || c != BigDecimal.class && BigDecimal.class.isAssignableFrom(c);
  }

  private static Check mapKey(JavaType t) {
    Class<?> raw = t.getRawClass();
    if (KEYS.contains(raw) || isEnum(raw)) {
      return NOTHING;
    }
    if (raw == Object.class || raw.isInterface() || Modifier.isAbstract(raw.getModifiers())) {
      return value -> {
        if (!KEYS.contains(value.getClass()) && !isEnum(value.getClass())) {
          throw badKey(value.getClass());
        }
      };
    }
    throw badKey(raw);
  }

  private static NotPlain badKey(Class<?> type) {
    return new NotPlain(
        "a map with keys of type "
            + type.getName()
            + " (map keys must be strings, enums, integers or UUIDs)");
  }

  private static Check components(Class<?> record) {
    List<Component> checked = new ArrayList<>();
    for (RecordComponent rc : record.getRecordComponents()) {
      JavaType t = TYPES.constructType(rc.getGenericType());
      Check c = step("." + rc.getName(), () -> declared(t));
      if (c != NOTHING) {
        Method accessor = rc.getAccessor();
        try {
          accessor.setAccessible(true); // a private nested record has public accessors too
        } catch (RuntimeException e) {
          // Jackson could not read it either; the call below will say so
        }
        checked.add(new Component("." + rc.getName(), accessor, c));
      }
    }
    return checked.isEmpty() ? NOTHING : new Components(checked.toArray(new Component[0]));
  }

  private interface Analysis {
    Check run();
  }

  private static Check step(String step, Analysis analysis) {
    try {
      return analysis.run();
    } catch (NotPlain e) {
      throw e.at(step);
    }
  }

  private record Component(String step, Method accessor, Check check) {}

  private record Components(Component[] components) implements Check {
    @Override
    public void check(Object value) {
      for (Component c : components) {
        Object v;
        try {
          v = c.accessor.invoke(value);
        } catch (ReflectiveOperationException e) {
          throw new NotPlain("unreadable (" + e + ")").at(c.step);
        }
        if (v != null) {
          try {
            c.check.check(v);
          } catch (NotPlain e) {
            throw e.at(c.step);
          }
        }
      }
    }
  }

  private record Elements(Check element) implements Check {
    @Override
    public void check(Object value) {
      int i = 0;
      if (value.getClass().isArray()) {
        for (int n = Array.getLength(value); i < n; i++) {
          element(Array.get(value, i), i);
        }
      } else {
        for (Object v : (Iterable<?>) value) {
          element(v, i++);
        }
      }
    }

    private void element(Object v, int i) {
      if (v != null) {
        try {
          element.check(v);
        } catch (NotPlain e) {
          throw e.at("[" + i + "]");
        }
      }
    }
  }

  private record Entries(Check key, Check value) implements Check {
    @Override
    public void check(Object map) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) map).entrySet()) {
        String step = "[" + quoted(e.getKey()) + "]";
        if (e.getKey() != null) {
          try {
            key.check(e.getKey());
          } catch (NotPlain n) {
            throw n.at(step);
          }
        }
        if (e.getValue() != null) {
          try {
            value.check(e.getValue());
          } catch (NotPlain n) {
            throw n.at(step);
          }
        }
      }
    }

    private static String quoted(Object key) {
      return key instanceof String s ? "\"" + s + "\"" : String.valueOf(key);
    }
  }

  /** A cached verdict that a class is not plain data. */
  private record Refusal(List<String> steps, String what) {
    Refusal(NotPlain e) {
      this(List.copyOf(e.steps), e.what);
    }

    NotPlain again() {
      NotPlain e = new NotPlain(what);
      e.steps.addAll(steps);
      return e;
    }
  }

  /** Thrown inside the analysis, with the path filled in on the way out; no stack trace. */
  private static final class NotPlain extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient ArrayDeque<String> steps = new ArrayDeque<>();
    final String what;

    NotPlain(String what) {
      super(what, null, false, false);
      this.what = what;
    }

    NotPlain at(String step) {
      steps.addFirst(step);
      return this;
    }

    String describe(Class<?> root) {
      if (steps.isEmpty()) {
        return "it is " + what + ", which is not plain data";
      }
      StringBuilder path = new StringBuilder(root.getSimpleName());
      steps.forEach(path::append);
      return path + " is " + what + ", which is not plain data";
    }
  }
}
