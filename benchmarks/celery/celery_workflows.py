"""Times Celery's canvas: a chord of N no-op members with a callback, and a chain of M steps.

    /usr/bin/python3 celery_workflows.py --redis redis://127.0.0.1:6379/15 [--members 10000]
        [--steps 1000] [--pool prefork] [--concurrency 2]

Prints JSON: for each workflow, the seconds from the moment the driver starts sending it to the
moment its callback (the chord's) or its last step (the chain's) has run, read from Redis. The
worker runs as a subprocess (`python3 -m celery worker`), results on (a chord needs them).
FLUSHDB is run on the given database first: give it a database of its own.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import celery_bench  # noqa: E402  (the worker start/stop helpers)


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    p.add_argument("--members", type=int, default=10000)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--pool", default="prefork")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--timeout", type=float, default=900)
    return p.parse_args()


def main():
    a = parse()
    import celery
    from celery import chain, chord, group

    tasks = celery_bench.load(a.redis, True)
    r = tasks._r
    r.flushdb()
    w = celery_bench.start_worker(a.redis, True, a.pool, a.concurrency)
    time.sleep(3)  # let it connect before timing starts
    out = {"celery": celery.__version__, "pool": a.pool, "concurrency": a.concurrency}
    try:
        t0 = time.time()
        chord(group(tasks.wf_noop.s(i) for i in range(a.members)), tasks.wf_collect.s()).apply_async()
        sent = time.time()
        deadline = t0 + a.timeout
        while r.get("bench:wf:callback") is None and time.time() < deadline:
            time.sleep(0.01)
        done = r.get("bench:wf:callback")
        if done is None:
            raise RuntimeError(f"the chord's callback did not run within {a.timeout} s")
        at, n, total = eval(done)
        out["chord"] = {"members": a.members, "sendSeconds": sent - t0, "seconds": at - t0,
                        "resultsSeen": n, "sumOk": total == sum(range(a.members))}

        r.flushdb()
        t0 = time.time()
        result = chain(tasks.wf_step.s(0), *[tasks.wf_step.s() for _ in range(a.steps - 1)]).apply_async()
        value = result.get(timeout=a.timeout)
        out["chain"] = {"steps": a.steps, "seconds": time.time() - t0, "resultOk": value == a.steps}
    finally:
        out["workerRssMb"] = celery_bench.rss_mb(w.pid)
        celery_bench.stop(w)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
