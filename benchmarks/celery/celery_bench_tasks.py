"""Celery tasks for the side-by-side benchmark (benchmarks/vs-celery.sh).

The broker and result backend come from CELERY_BENCH_REDIS (a Redis URL with a database of its
own). Each task marks its completion with one INCR on a counter key (one extra round trip per
task, about 0.1 ms against Celery's own ~1 ms), which the driver watches to time a drain from the
first task done to the last.
"""
import os
import time

import redis
from celery import Celery

URL = os.environ.get("CELERY_BENCH_REDIS", "redis://127.0.0.1:6379/15")
RESULTS = os.environ.get("CELERY_BENCH_RESULTS", "on") == "on"

app = Celery("celery_bench_tasks", broker=URL, backend=URL if RESULTS else None)
app.conf.update(
    task_ignore_result=not RESULTS,
    result_expires=600,
    worker_prefetch_multiplier=int(os.environ.get("CELERY_BENCH_PREFETCH", "4")),
    task_acks_late=os.environ.get("CELERY_BENCH_ACKS_LATE", "off") == "on",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

_r = redis.Redis.from_url(URL)


def _mark(name):
    _r.incr("bench:" + name + ":done")


@app.task(name="bench.noop")
def noop(payload):
    _mark("noop")


@app.task(name="bench.sleep10ms")
def sleep10ms(payload):
    time.sleep(0.01)
    _mark("sleep")


@app.task(name="bench.latency")
def latency(sent_at):
    _r.rpush("bench:latency", repr(time.time() - sent_at))


@app.task(name="bench.wf_noop")
def wf_noop(x):
    return x


@app.task(name="bench.wf_step")
def wf_step(x):
    return x + 1


@app.task(name="bench.wf_collect")
def wf_collect(results):
    _r.set("bench:wf:callback", repr((time.time(), len(results), sum(results))))
    return len(results)
