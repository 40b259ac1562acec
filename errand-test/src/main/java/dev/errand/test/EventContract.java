package dev.errand.test;

import static dev.errand.test.ContractSupport.newId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.spi.EventStore;
import dev.errand.wire.Wire;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bounded event log. */
interface EventContract extends ContractFixture {

  @Test
  default void publishAssignsIncreasingSeq() {
    EventStore events = backend().events();
    events.publish(List.of(event("a"), event("b")));
    events.publish(List.of(event("c")));

    List<Event> read = events.read(0, 10);

    assertThat(read).extracting(Event::taskId).containsExactly("a", "b", "c");
    assertThat(read).extracting(Event::seq).isSorted().doesNotHaveDuplicates();
    assertThat(read.get(0).seq()).isPositive();
  }

  @Test
  default void eventKeepsEveryField() {
    EventStore events = backend().events();
    Event sent =
        new Event(
            0,
            EventType.TASK_FAILED,
            clock().instant(),
            newId(),
            "reports.build",
            "errand@host:1:1",
            "reports",
            Wire.mapper().createObjectNode().put("error", "java.io.IOException: disk full"));

    events.publish(List.of(sent));

    Event stored = events.read(0, 10).get(0);
    assertThat(stored).isEqualTo(sent.withSeq(stored.seq()));
  }

  @Test
  default void readAfterSeq() {
    EventStore events = backend().events();
    events.publish(List.of(event("e1"), event("e2"), event("e3"), event("e4"), event("e5")));
    List<Event> all = events.read(0, 10);

    assertThat(events.read(all.get(1).seq(), 10))
        .extracting(Event::taskId)
        .containsExactly("e3", "e4", "e5");
    assertThat(events.read(all.get(1).seq(), 2))
        .extracting(Event::taskId)
        .containsExactly("e3", "e4");
    assertThat(events.read(all.get(4).seq(), 10)).isEmpty();
    assertThat(events.read(0, 0)).isEmpty();
  }

  @Test
  default void latestNewestFirst() {
    EventStore events = backend().events();
    events.publish(List.of(event("e1"), event("e2"), event("e3"), event("e4"), event("e5")));

    assertThat(events.latest(3)).extracting(Event::taskId).containsExactly("e5", "e4", "e3");
    assertThat(events.latest(10)).hasSize(5);
  }

  @Test
  default void boundedCapacity() {
    int capacity = eventCapacity();
    assumeTrue(capacity > 0, "the backend does not state its event capacity");
    EventStore events = backend().events();
    List<Event> batch = new ArrayList<>();
    for (int i = 0; i < capacity + 5; i++) {
      batch.add(event("e" + i));
      if (batch.size() == 100) {
        events.publish(batch);
        batch = new ArrayList<>();
      }
    }
    events.publish(batch);

    List<Event> kept = events.read(0, capacity + 10);
    assertThat(kept).hasSize(capacity);
    assertThat(kept.get(0).taskId()).as("the oldest five were dropped").isEqualTo("e5");
    assertThat(kept.get(capacity - 1).taskId()).isEqualTo("e" + (capacity + 4));
    assertThat(events.latest(1)).extracting(Event::taskId).containsExactly("e" + (capacity + 4));
  }

  @Test
  default void forTaskFindsOneTasksEventsOldestFirstAcrossTheWholeLog() {
    EventStore events = backend().events();
    String id = newId();
    String longer = id + "-child"; // contains the id: must not match
    events.publish(List.of(event(id, EventType.TASK_SENT), event(longer, EventType.TASK_SENT)));
    List<Event> filler = new ArrayList<>();
    for (int i = 0; i < 1_200; i++) { // more than one page of the default scan
      filler.add(event("f" + i));
    }
    events.publish(filler);
    events.publish(List.of(event(id, EventType.TASK_STARTED), event(id, EventType.TASK_SUCCEEDED)));

    int capacity = eventCapacity();
    List<Event> found = events.forTask(id, 10);
    if (capacity == 0 || capacity >= 1_204) {
      assertThat(found)
          .extracting(Event::type)
          .containsExactly(EventType.TASK_SENT, EventType.TASK_STARTED, EventType.TASK_SUCCEEDED);
      assertThat(found).extracting(Event::seq).isSorted();
      assertThat(events.forTask(id, 2)).hasSize(2);
    } else {
      // The sent event is past the capacity and gone.
      assertThat(found)
          .extracting(Event::type)
          .containsExactly(EventType.TASK_STARTED, EventType.TASK_SUCCEEDED);
    }
    assertThat(events.forTask(newId(), 10)).isEmpty();
  }

  private Event event(String taskId, EventType type) {
    return new Event(0, type, clock().instant(), taskId, "t.name", "w1", "default", null);
  }

  private Event event(String taskId) {
    return new Event(
        0, EventType.TASK_SUCCEEDED, clock().instant(), taskId, "t.name", "w1", "default", null);
  }
}
