#!/usr/bin/env python3
"""scripts/seed_table.py against an independent computation.

Trains a tiny sweep (2 ranks x 3 seeds) with the richlazy binary, runs seed_table.py on it,
and checks every printed mean and standard error against NumPy's, computed from other files
than the script reads: summary.csv for final values and the initial spectral radius,
metrics.csv's step-0 row for initial values (the script reads summary.json).
Usage: seed_table_test.py RICHLAZY_BINARY SOURCE_DIR
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np

binary, source = sys.argv[1], sys.argv[2]
CONFIG = """experiment: tiny
model: {name: ctrnn, hidden_size: 24}
init:
  W_rec: {name: low_rank, rank: 24}
train: {iterations: 20, batch_size: 8}
metrics: {every: 10, probe_trials: 32, kernel_trials: 8, names: [loss, dw_rec, kernel_alignment, kernel_task_alignment]}
sweep:
  init.W_rec.rank: [1, 24]
  seed: [0, 1, 2]
"""


def parse(cell):
    if "±" in cell:
        m, s = cell.split("±")
        return float(m), float(s)
    return float(cell), None


with tempfile.TemporaryDirectory() as tmp:
    cfg = os.path.join(tmp, "tiny.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    subprocess.run([binary, "run", cfg, "--out", tmp, "--quiet", "--no-report"], check=True,
                   stdout=subprocess.DEVNULL)
    exp = os.path.join(tmp, "tiny")
    out = subprocess.run([sys.executable, os.path.join(source, "scripts", "seed_table.py"), exp,
                          "--metrics", "dw_rec", "kernel_task_alignment", "--markdown"],
                         check=True, capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l.startswith("|") and not l.startswith("|---")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for l in lines[1:]:
        cells = [c.strip() for c in l.strip("|").split("|")]
        table[cells[0]] = dict(zip(header, cells))
    assert set(table) == {"1", "24"}, table.keys()
    assert header == ["group", "n", "not_ok", "dw_rec@0", "dw_rec", "kernel_task_alignment@0",
                      "kernel_task_alignment", "init_loss", "init_radius"], header

    with open(os.path.join(exp, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    checked = 0
    for rank in ("1", "24"):
        runs = [r for r in rows if r["init.W_rec.rank"] == rank]
        assert len(runs) == 3
        assert table[rank]["n"] == "3" and table[rank]["not_ok"] == "0"
        assert table[rank]["dw_rec@0"] == "0 ± 0"  # nothing has moved at step 0
        expected = {
            "dw_rec": [float(r["dw_rec"]) for r in runs],
            "kernel_task_alignment": [float(r["kernel_task_alignment"]) for r in runs],
            "init_loss": [float(r["init_loss"]) for r in runs],
            "init_radius": [float(r["init_spectral_radius"]) for r in runs],
        }
        initial = []
        for r in runs:
            with open(os.path.join(exp, "runs", r["run_id"], "metrics.csv")) as f:
                m = list(csv.DictReader(f))
            assert m[0]["step"] == "0"
            initial.append(float(m[0]["kernel_task_alignment"]))
        expected["kernel_task_alignment@0"] = initial
        for col, values in expected.items():
            v = np.array(values)
            mean, sem = v.mean(), v.std(ddof=1) / np.sqrt(len(v))
            got_mean, got_sem = parse(table[rank][col])
            assert abs(got_mean - mean) <= 5e-3 * abs(mean) + 1e-12, (rank, col, got_mean, mean)
            assert abs(got_sem - sem) <= 5e-2 * sem + 1e-12, (rank, col, got_sem, sem)
            checked += 1
    assert checked == 10

    # NAME:STEP: the value a run logged at that step, from metrics.csv.
    out = subprocess.run([sys.executable, os.path.join(source, "scripts", "seed_table.py"), exp,
                          "--metrics", "dw_rec:10", "--markdown"],
                         check=True, capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l.startswith("|") and not l.startswith("|---")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:4] == ["group", "n", "not_ok", "dw_rec:10"], header
    for l in lines[1:]:
        cells = dict(zip(header, [c.strip() for c in l.strip("|").split("|")]))
        values = []
        for r in rows:
            if r["init.W_rec.rank"] != cells["group"]:
                continue
            with open(os.path.join(exp, "runs", r["run_id"], "metrics.csv")) as f:
                values += [float(m["dw_rec"]) for m in csv.DictReader(f) if m["step"] == "10"]
        v = np.array(values)
        assert len(v) == 3 and v.min() > 0, v
        got_mean, got_sem = parse(cells["dw_rec:10"])
        assert abs(got_mean - v.mean()) <= 5e-3 * v.mean(), (got_mean, v)
        assert abs(got_sem - v.std(ddof=1) / np.sqrt(3)) <= 5e-2 * v.std(ddof=1) / np.sqrt(3) + 1e-12
        checked += 1
    assert checked == 12
print("seed_table: 12 means and standard errors agree with NumPy")
