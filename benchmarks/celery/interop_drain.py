"""Celery's side of benchmarks/vs-celery-interop.sh, and its driver's helpers.

As a module (`python3 -m celery -A interop_drain worker ...`, this directory on PYTHONPATH): the
Celery app and its one task, `bench.add(x, y)` -> x + y, the task InteropBenchApp.java registers for
Errand. Broker and result backend are the Redis URL in INTEROP_REDIS (one database for both); JSON;
`task_acks_late` from INTEROP_ACKS_LATE (on/off, default off: Celery's default); Celery's defaults
otherwise (prefetch multiplier 4, result_expires one day).

As a script, one step of a run:

    interop_drain.py enqueue --redis URL --queue Q --tasks N --ids FILE
        N `bench.add(i, i)` through Celery's own producer (`app.send_task`, one producer connection,
        results on, so the messages are byte for byte what a Celery client writes); the task ids in
        FILE, one a line, in the order of i; returns once all N are in the queue's list.
    interop_drain.py drain --redis URL --queue Q --tasks N --ids FILE --ready FILE --out FILE
        Subscribes to the result channels, touches --ready, and times the drain that the caller
        then starts: from the first SUCCESS record written to the N-th (see `watch`); then checks
        every id's record, the queue's lists and kombu's `unacked` (see `check`); JSON to --out.
    interop_drain.py report --work DIR --out FILE [--java TEXT] [--redis-version TEXT]
        The Markdown table (stdout) and the combined raw JSON (--out) from the runs' files in DIR.
"""
import argparse
import datetime
import glob
import json
import os
import socket
import statistics
import sys
import time
from urllib.parse import urlparse

from celery import Celery

URL = os.environ.get("INTEROP_REDIS", "redis://127.0.0.1:6379/0")
ACKS_LATE = os.environ.get("INTEROP_ACKS_LATE", "off") == "on"

app = Celery("interop_drain", broker=URL, backend=URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=ACKS_LATE,
)


@app.task(name="bench.add")
def add(x, y):
    return x + y


META = "celery-task-meta-"
# A SUCCESS record as published by Celery (kombu's json: ", " and ": ") and by Errand (compact).
SUCCESS_MARKS = (b'"status": "SUCCESS"', b'"status":"SUCCESS"')
FRAME_MARK = b"$8\r\npmessage\r\n"
# kombu's priority lists of a queue (priority_steps 0, 3, 6, 9; the 0 list is the queue's name).
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def redis_client(url):
    import redis

    return redis.Redis.from_url(url)


def enqueue(a):
    r = redis_client(a.redis)
    if r.llen(a.queue):
        sys.exit(f"queue {a.queue} is not empty ({r.llen(a.queue)} messages): flush first")
    app.conf.update(broker_url=a.redis, result_backend=a.redis)
    ids = []
    t0 = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for i in range(a.tasks):
            ids.append(app.send_task("bench.add", args=[i, i], queue=a.queue, producer=producer).id)
    sent = time.perf_counter() - t0
    with open(a.ids, "w") as f:
        f.writelines(i + "\n" for i in ids)
    deadline = time.time() + 60
    while r.llen(a.queue) < a.tasks:
        if time.time() > deadline:
            sys.exit(f"only {r.llen(a.queue)} of {a.tasks} messages reached {a.queue}")
        time.sleep(0.05)
    print(f"  enqueued {a.tasks:,} in {sent:.1f} s ({a.tasks / sent:,.0f}/s, Celery's producer)",
          file=sys.stderr)


def watch(a):
    """Counts SUCCESS records as they are written, from the PUBLISH that goes with each.

    Celery's Redis backend and Errand's celery_settle script both PUBLISH every record on the
    channel named like its key, in the same call as the SET, so a PSUBSCRIBE to celery-task-meta-*
    sees each write as it happens, with no polling and nothing read back. The stream is counted raw
    (a plain socket, a byte search for the status in each chunk, no RESP parsing) so that the
    counter keeps up with any drain rate on a loaded 2-core machine; a chunk's time is when recv
    returned it. Returns the figures and whether all N were seen.
    """
    u = urlparse(a.redis)
    s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if u.password:
        user = [u.username.encode()] if u.username else []
        cmd = [b"AUTH"] + user + [u.password.encode()]
        s.sendall(resp(cmd))
        if not s.recv(256).startswith(b"+OK"):
            sys.exit("AUTH failed")
    s.sendall(resp([b"PSUBSCRIBE", (META + "*").encode()]))
    buf = b""
    while b":1\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("Redis closed the subscription")
        buf += chunk
    rest = buf[buf.index(b":1\r\n") + 4:]
    with open(a.ready, "w") as f:
        f.write("ready\n")

    n = a.tasks
    success = frames = 0
    first_t = last_t = None
    first_n = 0
    tail = b""
    s.settimeout(0.2)
    started = time.time()
    last_seen = started
    chunk = rest
    while True:
        if chunk:
            now = time.perf_counter()
            last_seen = time.time()
            for mark in SUCCESS_MARKS + (FRAME_MARK,):
                # A mark split between two chunks starts in the previous one's last len-1 bytes.
                c = (tail[-(len(mark) - 1):] + chunk).count(mark)
                if mark is FRAME_MARK:
                    frames += c
                else:
                    success += c
            tail = (tail + chunk)[-32:]
            if success and first_t is None:
                first_t, first_n = now, success
            if success >= n:
                last_t = now
                break
        if time.time() - started > a.timeout:
            break
        if first_t is not None and time.time() - last_seen > a.stall:
            break
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            chunk = b""
            continue
        if not chunk:
            break
    s.close()
    out = {"tasks": n, "successSeen": success, "published": frames, "complete": success >= n}
    if last_t is not None and last_t > first_t:
        out.update(seconds=last_t - first_t, rate=(n - first_n) / (last_t - first_t),
                   firstChunk=first_n)
    else:
        out.update(seconds=None, rate=None, firstChunk=first_n)
    return out


def resp(parts):
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def check(a):
    """Every id's record (SUCCESS, result 2i), the span of their date_done, what is left over."""
    r = redis_client(a.redis)
    ids = [line.strip() for line in open(a.ids) if line.strip()]
    bad, examples, dones = 0, [], []
    for start in range(0, len(ids), 1000):
        part = ids[start:start + 1000]
        for k, raw in enumerate(r.mget([META + i for i in part])):
            i = start + k
            meta = json.loads(raw) if raw else None
            if not meta or meta.get("status") != "SUCCESS" or meta.get("result") != 2 * i:
                bad += 1
                if len(examples) < 5:
                    examples.append({"id": part[k], "i": i, "record": meta})
                continue
            if meta.get("date_done"):
                dones.append(datetime.datetime.fromisoformat(meta["date_done"].replace("Z", "")))
    # With acks_late, Celery acks after it stored the result: give the last acks a moment.
    deadline = time.time() + 15
    while True:
        lists = {q: r.llen(a.queue + q) for q in PRIORITY_SUFFIXES}
        left = {"queueLists": sum(lists.values()), "unacked": r.hlen("unacked"),
                "unackedIndex": r.zcard("unacked_index"),
                "errandHeld": sum(r.hlen(k) for k in r.scan_iter(match="*:celery:held"))}
        if not any(left.values()) or time.time() > deadline:
            break
        time.sleep(0.1)
    records = sum(1 for _ in r.scan_iter(match=META + "*", count=1000))
    out = {"checked": len(ids), "wrong": bad, "examples": examples, "left": left,
           "records": records}
    if len(dones) > 1:
        span = (max(dones) - min(dones)).total_seconds()
        out["dateDoneSeconds"] = span
        out["dateDoneRate"] = (len(dones) - 1) / span if span > 0 else None
    out["ok"] = bad == 0 and not any(left.values()) and records == len(ids) == a.tasks
    return out


def drain(a):
    w = watch(a)
    c = check(a)
    out = {"label": a.label, "watch": w, "check": c, "ok": w["complete"] and c["ok"]}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)
    rate = f"{w['rate']:,.0f} tasks/s in {w['seconds']:.2f} s" if w["rate"] else "no rate"
    dd = f", date_done span {c['dateDoneRate']:,.0f}/s" if c.get("dateDoneRate") else ""
    print(f"  {a.label}: {rate}{dd}; {c['checked'] - c['wrong']:,}/{c['checked']:,} SUCCESS with"
          f" the right result, left over {c['left']}" + ("" if out["ok"] else "  <-- CHECK FAILED"),
          file=sys.stderr)
    if not w["complete"]:
        print(f"  only {w['successSeen']:,} of {a.tasks:,} SUCCESS records were written"
              f" ({w['published']:,} records published)", file=sys.stderr)
        sys.exit(1)


def report(a):
    import celery
    import kombu

    def load(pattern):
        return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(a.work, pattern)))]

    celery_rows = []
    for late in (False, True):
        for pool, c in (("prefork", 2), ("threads", 8)):
            name = f"celery-{pool}{c}{'-acks-late' if late else ''}.json"
            if os.path.exists(os.path.join(a.work, name)):
                run = load(name)[0]
                label = f"Celery {celery.__version__} -P {pool} -c {c}" + (
                    ", acks_late=True" if late else "")
                celery_rows.append((label, run, late))
    errand_runs = sorted(load("errand-run-*.json"), key=lambda r: r["label"])
    warm = load("errand-warmup.json")

    def rate(run):
        return run["watch"]["rate"] or 0.0

    best = max(celery_rows, key=lambda r: rate(r[1])) if celery_rows else None
    late_rows = [r for r in celery_rows if r[2]]
    best_late = max(late_rows, key=lambda r: rate(r[1])) if late_rows else None

    def ratio(v, ref):
        return f"{v / rate(ref[1]):.1f}x" if ref and rate(ref[1]) else "-"

    def ok(runs):
        bad = [r["label"] for r in runs if not r["ok"]]
        return "ok" if not bad else "FAILED: " + ", ".join(bad)

    n = errand_runs[0]["check"]["checked"] if errand_runs else (
        celery_rows[0][1]["check"]["checked"] if celery_rows else 0)
    print(f"Drain of {n:,} Celery-format `bench.add` tasks (results on), one Redis"
          f" ({a.redis_version}); timed from the first SUCCESS record written to the last.\n")
    print("| consumer | drain tasks/s | vs best Celery | check |")
    print("|---|---|---|---|")
    for label, run, _ in celery_rows:
        print(f"| {label} | {rate(run):,.0f} | {ratio(rate(run), best)} | {ok([run])} |")
    summary = None
    if errand_runs:
        rates = [rate(r) for r in errand_runs]
        med = statistics.median(rates)
        rng = f" ({min(rates):,.0f} - {max(rates):,.0f})" if len(rates) > 1 else ""
        label = (f"Errand `celery+redis://`, c=8, prefetch 32, median of {len(rates)}"
                 f" after a warm-up of {warm[0]['check']['checked']:,}" if warm else
                 f"Errand, median of {len(rates)}")
        print(f"| {label} | {med:,.0f}{rng} | {ratio(med, best)} | {ok(errand_runs + warm)} |")
        summary = {"median": med, "min": min(rates), "max": max(rates), "runs": rates}
        print()
        if best:
            verdict = "met" if med >= 10 * rate(best[1]) else "NOT met"
            print(f"Target, at least 10x the best Celery configuration ({best[0]}): {verdict}"
                  f" ({med / rate(best[1]):.1f}x).")
        if best_late:
            print(f"Like for like on acknowledgement (Errand always acks late): {ratio(med, best_late)}"
                  f" the best acks_late=True configuration ({best_late[0]}).")
    if a.java:
        print(f"Java: {a.java}.")
    combined = {
        "tasks": n, "celery": celery.__version__, "kombu": kombu.__version__, "java": a.java,
        "redis": a.redis_version,
        "celeryRuns": {label: run for label, run, _ in celery_rows},
        "bestCelery": best[0] if best else None,
        "errand": summary, "errandRuns": errand_runs, "errandWarmup": warm,
    }
    with open(a.out, "w") as f:
        json.dump(combined, f, indent=2)
    bad = [r for r in [x[1] for x in celery_rows] + errand_runs + warm if not r["ok"]]
    sys.exit(1 if bad else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("enqueue")
    d = sub.add_parser("drain")
    for q in (e, d):
        q.add_argument("--redis", required=True)
        q.add_argument("--queue", required=True)
        q.add_argument("--tasks", type=int, default=20000)
        q.add_argument("--ids", required=True)
    d.add_argument("--ready", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--label", default="drain")
    d.add_argument("--timeout", type=float, default=600, help="whole drain, seconds")
    d.add_argument("--stall", type=float, default=60,
                   help="give up when no record came for this long after the first")
    r = sub.add_parser("report")
    r.add_argument("--work", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--java", default="")
    r.add_argument("--redis-version", default="Redis")
    a = p.parse_args()
    {"enqueue": enqueue, "drain": drain, "report": report}[a.cmd](a)


if __name__ == "__main__":
    main()
