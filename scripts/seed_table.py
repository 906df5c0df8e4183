#!/usr/bin/env python3
"""Mean +- standard error of the mean over seeds, per group of runs, from an experiment folder.

    python3 scripts/seed_table.py DIR/<experiment> [--group KEY ...] [--metrics M ...] [--markdown]

A metric written NAME:STEP is the value metrics.csv logged at that step (e.g.
test_accuracy@2AF:5000, the accuracy on 2AF at the end of a task sequence's first phase).

Reads every runs/<id>/summary.json (not summary.csv, so a folder whose sweep is still going or
that several processes wrote reads the same). Runs are grouped by their swept values other
than the seed (or by the --group keys). For each metric it prints the final value and, where
the metric was logged at step 0, the initial one ("kernel_task_alignment@0"); init_loss and
init_radius (W_rec's spectral radius) come from every run's initial_state and init blocks.
Runs whose status is not ok are counted in `not_ok` and left out of the means. Standard
library only (no NumPy needed): the s.e.m. is the sample standard deviation / sqrt(n).
"""
import argparse
import csv
import glob
import json
import math
import os
import sys

DEFAULT_METRICS = ["dw_rec", "dw_rec_rel", "rep_alignment", "kernel_alignment", "kernel_task_alignment"]


def mean_sem(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    n = len(values)
    if n == 0:
        return "-"
    m = sum(values) / n
    if n == 1:
        return f"{m:.3g}"
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    return f"{m:.3g} ± {sd / math.sqrt(n):.2g}"


def value_at(summary_file, name, step):
    """The value of column `name` at `step` in the run's metrics.csv (None when absent)."""
    path = os.path.join(os.path.dirname(summary_file), "metrics.csv")
    try:
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("step") == str(step):
                    return float(row[name]) if row.get(name) not in (None, "") else None
    except (OSError, ValueError, KeyError):
        return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment_dir")
    ap.add_argument("--group", nargs="*", help="swept keys to group by (default: all but seed)")
    ap.add_argument("--metrics", nargs="*", default=DEFAULT_METRICS)
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = ap.parse_args()

    files = sorted(glob.glob(os.path.join(args.experiment_dir, "runs", "*", "summary.json")))
    if not files:
        sys.exit(f"{args.experiment_dir}: no runs/*/summary.json (not an experiment folder, or nothing finished)")
    groups = {}
    order = []
    for f in files:
        with open(f) as fh:
            s = json.load(fh)
        swept = s.get("swept", {})
        keys = args.group if args.group is not None else [k for k in swept if k != "seed"]
        label = tuple((k, swept.get(k, "")) for k in keys)
        if label not in groups:
            groups[label] = []
            order.append(label)
        s["_file"] = f
        groups[label].append(s)

    columns = []
    for m in args.metrics:
        columns += [m] if ":" in m else [m + "@0", m]
    columns += ["init_loss", "init_radius"]
    header = ["group", "n", "not_ok"] + columns
    rows = []
    for label in order:
        runs = groups[label]
        ok = [r for r in runs if r.get("status") == "ok"]
        row = [", ".join(v for _, v in label) or "all", str(len(ok)), str(len(runs) - len(ok))]
        for m in args.metrics:
            if ":" in m:
                name, step = m.rsplit(":", 1)
                row.append(mean_sem([value_at(r["_file"], name, step) for r in ok]))
                continue
            row.append(mean_sem([r.get("initial", {}).get(m) for r in ok]))
            row.append(mean_sem([r.get("final", {}).get(m) for r in ok]))
        row.append(mean_sem([r.get("initial_state", {}).get("loss") for r in ok]))
        radius = []
        for r in ok:
            rec = [i for i in r.get("init", []) if i.get("role") == "recurrent"]
            radius.append(rec[0].get("spectral_radius") if rec else None)
        row.append(mean_sem(radius))
        rows.append(row)
    # Columns with nothing in them (a metric not logged at step 0) are left out.
    keep = [i for i in range(len(header)) if i < 3 or any(r[i] != "-" for r in rows)]
    header = [header[i] for i in keep]
    rows = [[r[i] for i in keep] for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
