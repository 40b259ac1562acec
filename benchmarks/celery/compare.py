"""Combines the raw figures of vs-celery.sh into one table (and one JSON file).

    python3 compare.py WORK_DIR OUT_JSON
"""
import glob
import json
import os
import re
import statistics
import sys

work, out_path = sys.argv[1], sys.argv[2]


def errand(results):
    runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(work, f"errand-{results}-*.json")))]
    figs = [r["figures"] for r in runs]
    med = {k: statistics.median(f[k] for f in figs) for k in figs[0]}
    rng = {k: (min(f[k] for f in figs), max(f[k] for f in figs)) for k in figs[0]}
    return med, rng, runs[0]


on, on_rng, on_meta = errand("on")
off, off_rng, _ = errand("off")
cel = json.load(open(os.path.join(work, "celery.json")))
s = cel["steps"]
ceiling = {}
for line in open(os.path.join(work, "redis-benchmark.txt")):
    m = re.match(r"(\w+): ([\d.]+) requests per second", line.strip())
    if m:
        ceiling[m.group(1)] = float(m.group(2))


def best(prefix):
    key = max((k for k in s if k.startswith(prefix)), key=lambda k: s[k]["rate"])
    return s[key]["rate"], key[len(prefix):]


rows = []


def row(name, e, c, cname, higher_is_better=True, unit="tasks/s", rng=None):
    ratio = (e / c if higher_is_better else c / e) if e and c else float("nan")
    fmt = (lambda v: f"{v:,.0f} {unit}") if unit == "tasks/s" else (lambda v: f"{v:.2f} {unit}")
    es = fmt(e) + (f" ({fmt(rng[0])} - {fmt(rng[1])})" if rng and rng[0] != rng[1] else "")
    rows.append((name, es, fmt(c) + (f" [{cname}]" if cname else ""), f"{ratio:.1f}x"))


row("enqueue, one call per task", on["enqueueSingle"], s["enqueueSingle"], "apply_async",
    rng=on_rng["enqueueSingle"])
row("enqueue, one call per task, 8 threads", on["enqueueConcurrent"], s["enqueueConcurrent"],
    "apply_async", rng=on_rng["enqueueConcurrent"])
row("enqueue, batched", on["enqueueBatched"], s["enqueueBatched"], "group of 500",
    rng=on_rng["enqueueBatched"])
c, cfg = best("drain_on_")
row(f"drain {on_meta['tasks']:,} no-op tasks, results on", on["drainNoop"], c, cfg,
    rng=on_rng["drainNoop"])
c, cfg = best("drain_off_")
row(f"drain {on_meta['tasks']:,} no-op tasks, results off", off["drainNoop"], c, cfg,
    rng=off_rng["drainNoop"])
rows.append(("  JVM CPU per drained task, results on", f"{on['drainCpuMicros']:.0f} us", "", ""))
lat = s["latency"]
# Celery's producer and worker are separate processes: Errand's worker process is the like for
# like; Errand's worker in the harness's JVM is shown beside it.
for where, key in (("worker process", "processLatency"), ("worker in the bench JVM", "latency")):
    n = int(on.get(key + "Tasks", 0))
    if not n:
        continue
    for p in ("P50", "P95", "P99"):
        row(f"latency enqueue->start {p.lower()} at 50/s, {where} ({n:,} / {lat['tasks']:,} tasks)",
            on[key + p + "Ms"], lat[p.lower() + "Ms"], "prefork2", False, "ms",
            on_rng[key + p + "Ms"])
row(f"drain 2,000 tasks sleeping 10 ms (c=50)", on["drainSleep"], s["drainSleep_threads50"]["rate"],
    "threads50", rng=on_rng["drainSleep"])
rss_c = s["drain_on_prefork2"]["rssMb"]
rss_c_text = f"{rss_c:.0f} MiB [prefork2 tree]; {s['drain_on_threads8']['rssMb']:.0f} MiB [threads8]"
# Like for like: Errand's latency worker process (after its warm-up drain and the latency step)
# against Celery's worker tree after its drain. The bench's JVM holds the harness, the producer
# and the in-process workers of every step: shown, not compared.


def than_celery(errand_mb):
    return f"{rss_c / errand_mb:.1f}x less" if rss_c > errand_mb else f"{errand_mb / rss_c:.1f}x more"


rss_w = on.get("processWorkerRssMb")
if isinstance(rss_w, (int, float)) and rss_w == rss_w:
    rows.append(("worker RSS after its run", f"{rss_w:.0f} MiB (errand worker process)", rss_c_text,
                 than_celery(rss_w)))
    rows.append(("bench JVM RSS after the run",
                 f"{on['rssMb']:.0f} MiB (harness, producer, in-process workers)", "", ""))
else:  # figures of a build before the worker process's memory was reported
    rows.append(("worker RSS after the run", f"{on['rssMb']:.0f} MiB (harness and worker, one JVM)",
                 rss_c_text, than_celery(on["rssMb"])))
for k, v in ceiling.items():
    rows.append((f"redis-benchmark {k} (ceiling)", f"{v:,.0f} ops/s", "", ""))

head = ("MEASURE", f"ERRAND (median of {len(glob.glob(os.path.join(work, 'errand-on-*.json')))})",
        f"CELERY {cel['celery']} [config]", "RATIO")
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
for r in [head] + rows:
    print("  ".join(str(r[i]).ljust(widths[i]) for i in range(4)).rstrip())
print(f"\nErrand: {on_meta['pool']} pool c={on_meta['concurrency']} prefetch={on_meta['prefetch']}, "
      f"sleeping tasks {on_meta['sleepPool']} c={on_meta['sleepConcurrency']}; Celery: prefetch "
      f"multiplier 4 (default), acks early (default). Raw figures: {out_path}")
json.dump({"errand": {"on": on, "off": off, "onRange": on_rng, "offRange": off_rng},
           "celery": cel, "redisBenchmark": ceiling, "table": rows}, open(out_path, "w"), indent=2)
