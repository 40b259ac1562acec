"""Prints the workflow figures of vs-celery.sh side by side.

    python3 compare_workflows.py WORK_DIR

Reads errand-workflows.json (errand bench-workflows --json) and celery-workflows-*.json
(celery_workflows.py, one per Celery pool). Errand's figure is the median of its timed runs, which
come after its untimed warm-up runs (the JIT compiles the hot path during the first few; an older
file without warm-up runs drops its first run instead); each Celery figure is its one run, the best
pool is compared.
"""
import glob
import json
import os
import statistics
import sys

work = sys.argv[1]
e = json.load(open(os.path.join(work, "errand-workflows.json")))
celery = {}
for f in sorted(glob.glob(os.path.join(work, "celery-workflows-*.json"))):
    c = json.load(open(f))
    celery[f"{c['pool']}{c['concurrency']}"] = c


def errand(kind):
    runs = e[kind]
    timed = runs if e.get("warmup", 0) > 0 or len(runs) == 1 else runs[1:]
    secs = [r["seconds"] for r in timed]
    ok = all(r["ok"] for r in runs)
    return statistics.median(secs), min(secs), max(secs), len(timed), ok


rows = []
for kind, label, size in (("chord", "chord of {:,} no-op members, send to callback done", "members"),
                          ("chain", "chain of {:,} steps, send to last result", "steps")):
    med, lo, hi, n, ok = errand(kind)
    best_cfg = min(celery, key=lambda k: celery[k][kind]["seconds"])
    best = celery[best_cfg][kind]["seconds"]
    others = ", ".join(f"{celery[k][kind]['seconds']:.2f} s [{k}]" for k in celery if k != best_cfg)
    rows.append((label.format(e[size]), f"{med:.3f} s ({lo:.3f} - {hi:.3f}, {n} runs)"
                 + ("" if ok else " WRONG RESULT"),
                 f"{best:.2f} s [{best_cfg}]" + (f"; {others}" if others else ""),
                 f"{best / med:.1f}x"))
head = ("WORKFLOW", "ERRAND (median)", f"CELERY {next(iter(celery.values()))['celery']} [pool]",
        "RATIO")
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
for r in [head] + rows:
    print("  ".join(str(r[i]).ljust(widths[i]) for i in range(4)).rstrip())
print(f"\nErrand: {e['backend']}, worker -c {e['concurrency']} prefetch 64 in the bench's JVM (the"
      f" producer shares its CPU), after {e.get('warmup', 0)} untimed runs of each."
      " Celery: the worker a process of its own, results on.")
