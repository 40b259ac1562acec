"""A Celery client for Errand's interoperability tests: runs one scenario, prints one JSON object.

    python3 interop_client.py SCENARIO [ARGS...]     (broker in ERRAND_CELERY_BROKER)

Scenarios:
  python-to-java        stock Celery calls of tasks an Errand worker runs (queue 'celery')
  send-adds N X0 QUEUE  sends N interop.add(X0 + i, 0) to QUEUE; prints their ids
  send-slow N MS QUEUE  sends N interop.slow(i, MS) to QUEUE; prints their ids
  wait ID...            waits for each id; prints {id: result, or "!<ExceptionType>: <message>"}
  chain                 py_mul(2, 3) [py] | interop.JavaMul(7) [java] | py_mul(10) [py], and
                        interop.add(1, 2) [java] linked to py_mul(100) [py]
"""
import json
import sys
import time
from datetime import datetime, timedelta, timezone

from celery import chain, signature

from interop import app


def outcome(r, timeout=60):
    try:
        return r.get(timeout=timeout)
    except Exception as e:  # the point is to report what Celery raised
        return "!%s.%s: %s" % (type(e).__module__, type(e).__name__, e)


def states_until_ready(r, timeout=60):
    seen = []
    end = time.time() + timeout
    while not r.ready() and time.time() < end:
        s = [r.state, r.info if isinstance(r.info, (dict, int, str, type(None))) else repr(r.info)]
        if not seen or seen[-1] != s:
            seen.append(s)
        time.sleep(0.01)
    return seen


def python_to_java():
    out = {}
    out["add"] = app.send_task("interop.add", args=[2, 3]).get(timeout=60)
    out["add_kwargs"] = app.send_task("interop.add", kwargs={"x": 4, "y": 5}).get(timeout=60)
    out["add_mixed"] = app.send_task("interop.add", args=[6], kwargs={"y": 7}).get(timeout=60)
    out["camel_case_name"] = app.send_task("interop.JavaMul", args=[6, 7]).get(timeout=60)
    out["unicode"] = app.send_task("interop.java_echo", args=["h\u00e9llo \u2603", {"n": [1, 2.5, None, True]}]).get(timeout=60)
    r = app.send_task("interop.java_fail", args=["java says no"])
    try:
        r.get(timeout=60)
        out["fail"] = "no exception"
    except Exception as e:
        out["fail"] = {"module": type(e).__module__, "type": type(e).__name__, "args": list(e.args)}
    out["fail_state"] = r.state
    out["fail_traceback"] = r.traceback
    r = app.send_task("interop.java_flaky", args=[3])
    out["flaky_states"] = states_until_ready(r)
    out["flaky"] = outcome(r)
    r = app.send_task("interop.java_progress", args=[10])
    out["progress_states"] = states_until_ready(r)
    out["progress"] = outcome(r)
    start = time.time()
    r = app.send_task("interop.add", args=[1, 1], countdown=2)
    out["countdown"] = outcome(r)
    out["countdown_seconds"] = time.time() - start
    r = app.send_task(
        "interop.add", args=[1, 1], expires=datetime.now(timezone.utc) - timedelta(seconds=10)
    )
    out["expired"] = outcome(r)
    r = app.send_task("interop.add", args=[1, 2], priority=9)
    out["low_priority"] = outcome(r)
    r = app.send_task("interop.no_such_task", args=[1])
    out["unknown"] = outcome(r)
    return out


def send(task, n, first, queue, extra):
    ids = []
    for i in range(n):
        ids.append(app.send_task(task, args=[first + i, extra], queue=queue).id)
    return ids


def wait(ids):
    return {i: outcome(app.AsyncResult(i), timeout=120) for i in ids}


def cross_language_chain():
    out = {}
    c = chain(
        signature("interop.py_mul", args=(2, 3), queue="py", app=app),
        signature("interop.JavaMul", args=(7,), queue="java", app=app),
        signature("interop.py_mul", args=(10,), queue="py", app=app),
    )
    r = c.apply_async()
    out["chain"] = outcome(r)
    out["chain_parent"] = outcome(r.parent)
    linked = signature("interop.py_mul", args=(100,), queue="py", app=app)
    first = signature("interop.add", args=(1, 2), queue="java", app=app).apply_async(link=linked)
    out["linked_first"] = outcome(first)
    deadline = time.time() + 60
    while not first.children and time.time() < deadline:
        time.sleep(0.05)
        first = app.AsyncResult(first.id)
    out["linked_children"] = [c.id for c in (first.children or [])]
    out["linked"] = outcome(first.children[0]) if first.children else "no children"
    return out


def main():
    scenario = sys.argv[1]
    if scenario == "python-to-java":
        result = python_to_java()
    elif scenario == "send-adds":
        result = send("interop.add", int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], 0)
    elif scenario == "send-slow":
        result = send("interop.slow", int(sys.argv[2]), 0, sys.argv[4], int(sys.argv[3]))
    elif scenario == "wait":
        result = wait(sys.argv[2:])
    elif scenario == "chain":
        result = cross_language_chain()
    else:
        raise SystemExit("unknown scenario " + scenario)
    print(json.dumps(result, default=repr))


if __name__ == "__main__":
    main()
