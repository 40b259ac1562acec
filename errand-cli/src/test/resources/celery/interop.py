"""The Celery app of Errand's interoperability tests (errand-cli CeleryInteropIT).

Run by the tests as `python3 -m celery -A interop worker ...` with this directory on PYTHONPATH and
the broker in ERRAND_CELERY_BROKER. Tasks whose names start with `interop.py_` exist only here;
`interop.add` and `interop.slow` exist on both sides (mixed fleets).
"""
import os
import time

from celery import Celery
from celery.exceptions import Ignore

broker = os.environ.get("ERRAND_CELERY_BROKER", "redis://127.0.0.1:6379/0")
app = Celery("interop", broker=broker, backend=broker)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    result_expires=3600,
    broker_transport_options={"visibility_timeout": int(os.environ.get("ERRAND_CELERY_VT", "3600"))},
    worker_hijack_root_logger=False,
)


def _log(name, *values):
    path = os.environ.get("ERRAND_CELERY_LOG")
    if path:
        with open(path, "a") as f:
            f.write(" ".join([name] + [str(v) for v in values]) + " py\n")


@app.task(name="interop.add")
def add(x, y):
    _log("add", x, y)
    return x + y


@app.task(name="interop.py_mul")
def py_mul(x, y):
    return x * y


@app.task(name="interop.py_fail")
def py_fail(message):
    raise ValueError(message, 42)


@app.task(name="interop.py_progress", bind=True)
def py_progress(self, steps):
    for i in range(steps):
        self.update_state(state="PROGRESS", meta={"current": i, "total": steps})
        time.sleep(0.05)
    return steps


@app.task(name="interop.py_flaky", bind=True, max_retries=5)
def py_flaky(self, succeed_on):
    if self.request.retries + 1 < succeed_on:
        raise self.retry(exc=RuntimeError("attempt %d" % (self.request.retries + 1)), countdown=1)
    return self.request.retries + 1


@app.task(name="interop.slow")
def slow(n, ms):
    _log("start", n)
    time.sleep(ms / 1000.0)
    _log("done", n)
    return n


@app.task(name="interop.py_echo")
def py_echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}
