package dev.errand.worker;

import static dev.errand.workflow.Workflows.chord;
import static dev.errand.workflow.Workflows.group;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.workflow.Chain;
import dev.errand.workflow.GroupResult;
import dev.errand.workflow.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Eager mode runs a workflow inline, through the same settlements as a worker. */
class EagerWorkflowTest {

  final Client eager = Eager.client(new WorkflowTest().tasks());

  @Test
  void chainRunsToItsEndBeforeSendReturns() throws Exception {
    AsyncResult<String> r =
        eager.send(
            Chain.of(Signature.of(WorkflowTest.CHARGE, new WorkflowTest.Order("o-9", 5)))
                .then(WorkflowTest.RESERVE)
                .then(WorkflowTest.CONFIRM));

    assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
    assertThat(r.get(Duration.ZERO)).isEqualTo("reserved o-9, confirmed");
  }

  @Test
  void chordCallbackRunsInlineOnce() throws Exception {
    List<Signature<Integer>> members = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      members.add(Signature.of(WorkflowTest.DOUBLE, i));
    }
    AsyncResult<Integer> total = eager.send(chord(group(members), WorkflowTest.SUM));

    assertThat(total.get(Duration.ZERO)).isEqualTo(110);
  }

  @Test
  void aLongChainRunsAsALoopNotNestedCalls() throws Exception {
    Chain<Integer> chain = Chain.of(Signature.of(WorkflowTest.DOUBLE, 0));
    for (int i = 0; i < 2_000; i++) {
      chain = chain.then(WorkflowTest.DOUBLE);
    }

    assertThat(eager.send(chain).get(Duration.ZERO)).isZero();
  }

  @Test
  void failedChordIsFailedWhenSendReturns() {
    AsyncResult<Integer> r =
        eager.send(
            chord(
                group(
                    Signature.of(WorkflowTest.FAIL_ON_ODD, 2),
                    Signature.of(WorkflowTest.FAIL_ON_ODD, 3)),
                WorkflowTest.SUM));

    assertThatThrownBy(() -> r.get(Duration.ZERO)).hasMessageContaining("ChordFailed");
    GroupResult<Integer> g = eager.send(group(Signature.of(WorkflowTest.DOUBLE, 4)));
    assertThat(g.completed()).isEqualTo(1);
  }
}
