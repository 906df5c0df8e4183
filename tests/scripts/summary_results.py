"""summary_results.py SUMMARY_CSV: summary.csv without its timing columns, for comparing the
results of one sweep trained in different ways (one process, shards, Slurm, resumed)."""
import csv
import sys

TIMINGS = {"wall_seconds", "ms_per_iteration", "metric_seconds"}
rows = list(csv.reader(open(sys.argv[1], newline="")))
keep = [i for i, column in enumerate(rows[0]) if column not in TIMINGS]
for row in rows:
    print(",".join(row[i] for i in keep))
