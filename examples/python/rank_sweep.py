"""richlazy from Python, start to finish (README: "From Python").

1. a small rank sweep of the 2AF task, and dw_rec against the rank of W_rec(0), drawn from
   the summary's DataFrame;
2. one trained network on fresh trials: its accuracy, psychometric curve, and its hidden
   states' first two principal components;
3. an initializer written in Python (sparse Gaussian connectivity), used by a config.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/rank_sweep.py --out results/python_example
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import richlazy  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="results/python_example", help="folder for the results and figures")
parser.add_argument("--iterations", type=int, default=2000, help="updates per run")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# --- 1. a rank sweep -----------------------------------------------------------------------
config = {
    "experiment": "rank_sweep",
    "task": {"name": "2AF"},
    "model": {"name": "ctrnn", "hidden_size": 100},
    "init": {"W_rec": {"name": "low_rank", "rank": 100, "gain": 1.25}},
    "train": {"iterations": args.iterations, "batch_size": 32,
              "optimizer": {"name": "sgd", "lr": 0.003, "momentum": 0.9}},
    "metrics": {"every": args.iterations // 4, "names": ["loss", "test_accuracy", "dw_rec", "kernel_alignment"]},
    "sweep": {"init.W_rec.rank": [1, 10, 100], "seed": [0, 1]},
}
exp = richlazy.run(config, out=out, overwrite=True, report=False, quiet=True)
df = exp.summary_df
table = df.groupby("init.W_rec.rank")[["dw_rec", "kernel_alignment", "test_accuracy"]].agg(["mean", "sem"])
print(f"{exp}: mean and s.e.m. over seeds")
print(table.round(4).to_string())

fig, ax = plt.subplots(figsize=(4, 3))
ax.errorbar(table.index, table[("dw_rec", "mean")], yerr=table[("dw_rec", "sem")], marker="o")
ax.set_xscale("log")
ax.set_xlabel("rank of W_rec(0)")
ax.set_ylabel("dw_rec = ||W(T) - W(0)||_F / ||W(0)||_F")
fig.tight_layout()
fig.savefig(out / "dw_rec_vs_rank.png", dpi=120)

# --- 2. one trained network on fresh trials --------------------------------------------------
run_id = exp.runs[-1]  # rank 100, seed 1
ev = richlazy.eval(exp.run_dir(run_id), trials=600, seed=1)
print(f"\n{run_id} on 600 fresh trials: accuracy {ev['scores']['accuracy']:.3f}")
print("  fraction 'choice2' by signed coherence:",
      ", ".join(f"{p['signed_coherence']:g}: {p['fraction_chosen']:.2f}" for p in ev["psychometric"]["points"]))

hidden = ev["arrays"]["hidden"]                        # [T, trials, N]
flat = hidden.reshape(-1, hidden.shape[-1]).astype(np.float64)
mean = flat.mean(axis=0)
_, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
pcs = (hidden - mean) @ vt[:2].T                       # [T, trials, 2]
explained = s[:2] ** 2 / (s ** 2).sum()
print(f"  the first two principal components explain {explained[0]:.1%} and {explained[1]:.1%} of the variance")
gt = ev["arrays"]["trial_vars"]["ground_truth"]
coh = ev["arrays"]["trial_vars"]["coherence"]
signed = np.where(gt == 1, coh, -coh) + 0.0  # + 0.0: no -0
fig, ax = plt.subplots(figsize=(4, 3.5))
cmap = plt.get_cmap("coolwarm")
values = np.unique(signed)
for i, c in enumerate(values):
    trace = pcs[:, signed == c].mean(axis=1)           # the condition's mean trajectory
    ax.plot(trace[:, 0], trace[:, 1], color=cmap(i / max(len(values) - 1, 1)), label=f"{c:g}")
ax.set_xlabel("PC 1")
ax.set_ylabel("PC 2")
ax.legend(title="signed coherence", fontsize=6, title_fontsize=7)
fig.tight_layout()
fig.savefig(out / "hidden_pca.png", dpi=120)


# --- 3. an initializer written in Python -------------------------------------------------------
def sparse_gaussian(shape, seed, density, gain):
    """Each connection exists with probability density, N(0, gain^2 / (density * fan_in))."""
    rng = np.random.default_rng(seed)  # the seed comes from the run's init/W_rec stream
    mask = rng.random(shape) < density
    return rng.standard_normal(shape) * gain / np.sqrt(density * shape[1]) * mask


richlazy.register_initializer("sparse_gaussian", sparse_gaussian, params={"density": 0.1, "gain": 1.25},
                              description="sparse Gaussian connectivity (NumPy)")
config["experiment"] = "sparse"
config["init"] = {"W_rec": {"name": "sparse_gaussian", "density": 0.1}}
config["sweep"] = {"init.W_rec.density": [0.05, 0.2, 1.0], "seed": [0]}
sparse = richlazy.run(config, out=out, overwrite=True, report=False, quiet=True)
print(f"\n{sparse}: a Python initializer")
for row in sparse.summary:
    print(f"  density {row['init.W_rec.density']}: dw_rec {row['dw_rec']:.4f}, "
          f"test accuracy {row['test_accuracy']:.3f}, initial spectral radius {row['init_spectral_radius']:.2f}")
print(f"\nfigures: {out / 'dw_rec_vs_rank.png'}, {out / 'hidden_pca.png'}")
