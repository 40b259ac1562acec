"""Runs the benchmark workloads on Celery and prints the figures as JSON.

    /usr/bin/python3 celery_bench.py --redis redis://127.0.0.1:6379/15 [--tasks 20000]

Measures, with Celery workers started as subprocesses (`python3 -m celery worker`):
enqueue rate (apply_async one call per task, and a group sent in chunks of 500), drain of N
pre-enqueued no-op tasks with results on and off for prefork -c 2 and threads -c 8, latency
(enqueue to start, p50/p95/p99 of 2,000 tasks) at a fixed 50 tasks/s, drain of 2,000 tasks sleeping 10 ms with
threads -c 50, and each worker's resident memory (its whole process tree) after its run.
FLUSHDB is run on the given database before each step: give it a database of its own.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    p.add_argument("--tasks", type=int, default=20000)
    p.add_argument("--sleep-tasks", type=int, default=2000)
    p.add_argument("--latency-rate", type=int, default=50)
    p.add_argument("--latency-tasks", type=int, default=2000)
    p.add_argument("--single", type=int, default=2000, help="tasks for the one-at-a-time enqueue")
    p.add_argument("--latency-only", action="store_true", help="run the latency step alone")
    p.add_argument("--latency-samples", help="append every latency sample (ms) to this file")
    return p.parse_args()


def env(url, results):
    e = dict(os.environ)
    e["CELERY_BENCH_REDIS"] = url
    e["CELERY_BENCH_RESULTS"] = "on" if results else "off"
    e["PYTHONPATH"] = HERE + os.pathsep + e.get("PYTHONPATH", "")
    return e


def load(url, results):
    """Imports the tasks module configured for this step (a fresh import per configuration)."""
    os.environ.update(env(url, results))
    sys.path.insert(0, HERE)
    for name in list(sys.modules):
        if name == "celery_bench_tasks":
            del sys.modules[name]
    import celery_bench_tasks

    return celery_bench_tasks


def start_worker(url, results, pool, concurrency):
    cmd = [PYTHON, "-m", "celery", "-A", "celery_bench_tasks", "worker", "--pool", pool,
           "-c", str(concurrency), "--loglevel", "warning", "--without-gossip",
           "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(cmd, cwd=HERE, env=env(url, results),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def rss_mb(pid):
    """Resident memory of a process and all its descendants, MiB."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return total / 1024.0


def stop(worker):
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def watch(r, key, n, timeout=600):
    """Waits until counter `key` reaches n; returns (rate from first to last seen, seconds)."""
    first_t, first_n = None, 0
    deadline = time.time() + timeout
    while time.time() < deadline:
        c = int(r.get(key) or 0)
        now = time.perf_counter()
        if c > 0 and first_t is None:
            first_t, first_n = now, c
        if c >= n:
            span = now - first_t
            return (n - first_n) / span if span > 0 else float("nan"), span
        time.sleep(0.005)
    raise RuntimeError(f"{key} did not reach {n} within {timeout} s")


def enqueue_in_chunks(sig, n, args):
    from celery import group

    for start in range(0, n, 500):
        group(sig.s(*args) for _ in range(min(500, n - start))).apply_async()


def latency(a):
    """Enqueue to start at a fixed rate, prefork -c 2, results on: p50/p95/p99 and the slowest."""
    tasks = load(a.redis, True)
    r = tasks._r
    r.flushdb()
    w = start_worker(a.redis, True, "prefork", 2)
    time.sleep(3)  # let it connect before timing starts
    n = a.latency_tasks
    interval = 1.0 / a.latency_rate
    nxt = time.time()
    for _ in range(n):
        wait = nxt - time.time()
        if wait > 0:
            time.sleep(wait)
        tasks.latency.apply_async((time.time(),))
        nxt += interval
    deadline = time.time() + 120
    while r.llen("bench:latency") < n and time.time() < deadline:
        time.sleep(0.05)
    samples = [float(x) * 1000 for x in r.lrange("bench:latency", 0, -1)]
    stop(w)
    if a.latency_samples:
        with open(a.latency_samples, "a") as f:
            f.writelines(f"{ms:.3f}\n" for ms in samples)
    lat = sorted(samples)

    def pct(p):
        return lat[max(0, min(len(lat) - 1, int(-(-p * len(lat) // 1)) - 1))] if lat else float("nan")

    return {"tasks": len(lat), "p50Ms": pct(0.50), "p95Ms": pct(0.95), "p99Ms": pct(0.99),
            "maxMs": lat[-1] if lat else float("nan")}


def main():
    a = parse()
    import celery

    out = {"celery": celery.__version__, "steps": {}}
    if a.latency_only:
        out["steps"]["latency"] = latency(a)
        print(json.dumps(out, indent=2))
        return
    tasks = load(a.redis, True)
    r = tasks._r
    payload = "x" * 100

    # Enqueue rates (results on: the producer also registers the result backend).
    r.flushdb()
    t0 = time.perf_counter()
    for _ in range(a.single):
        tasks.noop.apply_async((payload,))
    out["steps"]["enqueueSingle"] = a.single / (time.perf_counter() - t0)
    r.flushdb()
    # The same from 8 threads at once (a web app's request threads); Celery's producer pool is
    # thread-safe.
    import threading
    share = [a.single // 8 + (1 if i < a.single % 8 else 0) for i in range(8)]

    def produce(n):
        for _ in range(n):
            tasks.noop.apply_async((payload,))

    threads = [threading.Thread(target=produce, args=(n,)) for n in share]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["steps"]["enqueueConcurrent"] = a.single / (time.perf_counter() - t0)
    r.flushdb()
    t0 = time.perf_counter()
    enqueue_in_chunks(tasks.noop, a.tasks, (payload,))
    out["steps"]["enqueueBatched"] = a.tasks / (time.perf_counter() - t0)

    # Drains of pre-enqueued no-op tasks.
    for results in (True, False):
        tasks = load(a.redis, results)
        r = tasks._r
        for pool, c in (("prefork", 2), ("threads", 8)):
            r.flushdb()
            enqueue_in_chunks(tasks.noop, a.tasks, (payload,))
            w = start_worker(a.redis, results, pool, c)
            rate, span = watch(r, "bench:noop:done", a.tasks)
            rss = rss_mb(w.pid)
            stop(w)
            key = f"drain_{'on' if results else 'off'}_{pool}{c}"
            out["steps"][key] = {"rate": rate, "seconds": span, "rssMb": rss}
            print(f"{key}: {rate:,.0f} tasks/s", file=sys.stderr)

    out["steps"]["latency"] = latency(a)

    # Sleeping tasks on threads -c 50.
    tasks = load(a.redis, True)
    r = tasks._r
    r.flushdb()
    enqueue_in_chunks(tasks.sleep10ms, a.sleep_tasks, (payload,))
    w = start_worker(a.redis, True, "threads", 50)
    rate, span = watch(r, "bench:sleep:done", a.sleep_tasks)
    rss = rss_mb(w.pid)
    stop(w)
    out["steps"]["drainSleep_threads50"] = {"rate": rate, "seconds": span, "rssMb": rss}
    r.flushdb()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
