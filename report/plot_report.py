#!/usr/bin/env python3
"""plot_report.py: the figures of a richlazy experiment report.

Called by `richlazy report` with the path of report_data.json, which names the experiment
folder and the swept values (groups of runs that differ only in their seed). Reads each run's
metrics.csv and weights/<param>_init.npy, draws the figures with matplotlib and writes them,
with figures.json (one entry a figure: id, title, caption, files), next to report_data.json.
Exit status 2 with one line on stderr for data it cannot use, 1 with one line for any other
failure (never a traceback: `richlazy report` shows that line).
"""
import csv
import json
import math
import os
import sys

# Okabe & Ito (2008) colour-blind-safe palette, yellow last (weak on white).
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

METRIC_LABELS = {
    "loss": "training loss",
    "test_loss": "test loss",
    "accuracy": "accuracy (fraction correct)",
    "test_accuracy": "test accuracy (fraction correct)",
    "dw_rec": "‖W_rec(t) − W_rec(0)‖_F",
    "dw_rec_rel": "‖ΔW_rec‖_F / ‖W_rec(0)‖_F",
    "dw_in": "‖W_in(t) − W_in(0)‖_F",
    "dw_out": "‖W_out(t) − W_out(0)‖_F",
    "rep_alignment": "alignment with t = 0\n(1 = unchanged)",
    "kernel_alignment": "alignment with t = 0\n(1 = unchanged)",
    "sign_similarity": "fraction of signs\nunchanged since t = 0",
    "erank_rec": "effective rank of W_rec(t)",
    "erank_delta_rec": "effective rank of ΔW_rec",
    "path_length_rec": "Σ ‖ΔW_rec‖_F per interval",
    "kernel_alignment_both": "alignment with t = 0 of the\nkernel w.r.t. W_1 and w_2",
    "kernel_alignment_W1TW1": "alignment with t = 0 of\nW_1^T W_1 (the W_1 part)",
}
LINESTYLES = ["-", "--", "-.", ":"]
STEP_LABEL = "training step (updates)"


class ReportDataError(Exception):
    pass


def metric_label(name):
    return METRIC_LABELS.get(name, name)


def one_line(text, limit=1000):
    """`text` on one line: line breaks and other control characters escaped, at most `limit`."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[:limit] + "..."


def read_metrics(path):
    """metrics.csv -> (header, {column: list of floats}); NaN for empty, non-numeric or
    non-finite cells. ReportDataError naming the file for anything that is not such a file."""
    if not os.path.isfile(path):
        raise ReportDataError(f"{path}: missing (every run of the experiment writes one)")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise ReportDataError(f"{path}: not a richlazy metrics.csv (not UTF-8 text: byte {e.start})")
    except (csv.Error, OSError) as e:
        raise ReportDataError(f"{path}: not a richlazy metrics.csv ({one_line(e)})")
    if not rows or not rows[0] or rows[0][0] != "step":
        raise ReportDataError(f"{path}: not a richlazy metrics.csv (the header must start with 'step')")
    header = rows[0]
    seen = set()
    for h in header:
        if h in seen:
            raise ReportDataError(f"{path}:1: the column '{one_line(h, 80)}' appears twice")
        seen.add(h)
    columns = {h: [] for h in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ReportDataError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        for h, v in zip(header, row):
            try:
                x = float(v)
            except ValueError:
                x = math.nan
            columns[h].append(x if math.isfinite(x) else math.nan)
    return header, columns


def group_colors(n, plt):
    if n <= len(OKABE_ITO):
        return OKABE_ITO[:n]
    cmap = plt.get_cmap("cividis")
    return [cmap(i / max(1, n - 1)) for i in range(n)]


def mean_and_sem(np, rows):
    """Mean and standard error over the first axis, ignoring NaN; sem 0 for one row."""
    a = np.asarray(rows, dtype=float)
    with np.errstate(invalid="ignore"):
        n = np.sum(np.isfinite(a), axis=0)
        mean = np.nanmean(a, axis=0) if a.shape[0] else np.full(a.shape[1:], np.nan)
        sd = np.nanstd(a, axis=0, ddof=1) if a.shape[0] > 1 else np.zeros(a.shape[1:])
        sem = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), 0.0)
    return mean, sem


class Report:
    def __init__(self, data, out_dir):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
        self.plt, self.np, self.data = plt, np, data
        plt.rcParams.update({
            "font.family": "DejaVu Sans", "font.size": 10, "axes.titlesize": 11,
            "axes.labelsize": 10, "legend.fontsize": 9, "figure.dpi": 100,
            "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
            "axes.formatter.useoffset": False,  # plain tick labels, no "+9.999e-1" offsets
        })
        self.exp_dir = data["experiment_dir"]
        self.out_dir = out_dir
        self.groups = data["groups"]
        self.runs = data["runs"]
        self.colors = group_colors(len(self.groups), plt)
        self.figures = []
        self.metrics = {}  # run id -> (header, columns), ok runs only
        for g in self.groups:
            for rid in g["ok_runs"]:
                self.metrics[rid] = read_metrics(os.path.join(self.exp_dir, "runs", rid, "metrics.csv"))

    # --- helpers ------------------------------------------------------------------------
    def save(self, fig, fig_id, title, caption):
        files = {}
        for fmt in self.data["formats"]:
            name = f"{fig_id}.{fmt}"
            fig.savefig(os.path.join(self.out_dir, name), dpi=150 if fmt == "png" else None,
                        bbox_inches="tight")
            files[fmt] = name
        self.plt.close(fig)
        self.figures.append({"id": fig_id, "title": title, "caption": caption, "files": files})

    def left_out_text(self):
        """Names the swept values none of whose runs finished ok (they have no points)."""
        missing = [g["label"] for g in self.groups if not g["ok_runs"]]
        return f" No run finished ok for: {', '.join(missing)}." if missing else ""

    def seeds_text(self):
        counts = sorted({len(g["ok_runs"]) for g in self.groups})
        n = "–".join(str(c) for c in (counts if len(counts) < 3 else [counts[0], counts[-1]]))
        return f"{n} seed{'s' if counts != [1] else ''} per value"

    def trajectory(self, group, metric):
        """(steps, mean, sem) of a metric over a group's ok runs, on the steps they share."""
        np = self.np
        runs = [self.metrics[r] for r in group["ok_runs"] if metric in self.metrics[r][1]]
        if not runs:
            return None
        steps = sorted(set.intersection(*[set(c["step"]) for _, c in runs]))
        if not steps:
            return None
        rows = []
        for _, c in runs:
            index = {s: i for i, s in enumerate(c["step"])}
            rows.append([c[metric][index[s]] for s in steps])
        mean, sem = mean_and_sem(np, rows)
        return np.asarray(steps), mean, sem

    def legend_handles(self, labels=None):
        from matplotlib.lines import Line2D
        return [Line2D([], [], color=c, lw=2, ls=LINESTYLES[i % len(LINESTYLES)],
                       label=(labels or {}).get(g["label"], g["label"]))
                for i, (g, c) in enumerate(zip(self.groups, self.colors))]

    def phase_boundaries(self):
        """The steps that end a phase of a task sequence (train.phases): where a run's
        metrics.csv `phase` column changes from one row to the next."""
        steps = set()
        for _, c in self.metrics.values():
            phase = c.get("phase")
            if phase is None:
                continue
            for i in range(len(phase) - 1):
                if phase[i + 1] != phase[i] and phase[i] == phase[i]:  # not NaN
                    steps.add(c["step"][i])
        return sorted(steps)

    def curves(self, fig_id, title, metrics, caption_start):
        plt, np = self.plt, self.np
        metrics = [m for m in metrics if any(self.trajectory(g, m) is not None for g in self.groups)]
        if not metrics:
            return
        boundaries = self.phase_boundaries()
        ncols = min(3, len(metrics))
        nrows = math.ceil(len(metrics) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.0 * ncols, 3.1 * nrows), squeeze=False)
        geometric = False  # metrics.schedule: log (steps 1, 2, 5, 10, ...): a log step axis
        for ax, metric in zip(axes.flat, metrics):
            positive = True
            for gi, (g, color) in enumerate(zip(self.groups, self.colors)):
                t = self.trajectory(g, metric)
                if t is None:
                    continue
                steps, mean, sem = t
                geometric = geometric or (1 in steps and 2 in steps and 5 in steps and 3 not in steps)
                positive = positive and bool(np.all(mean[np.isfinite(mean)] > 0))
                ax.plot(steps, mean, color=color, lw=1.6, ls=LINESTYLES[gi % len(LINESTYLES)])
                ax.fill_between(steps, mean - sem, mean + sem, color=color, alpha=0.2, lw=0)
            for b in boundaries:
                ax.axvline(b, color="0.45", lw=0.9, ls=":", zorder=0)
            ax.set_xlabel(STEP_LABEL)
            ax.set_ylabel(metric_label(metric))
            ax.set_title(metric)
            if metric in ("loss", "test_loss") and positive:
                ax.set_yscale("log")
        if geometric:
            # Linear from 0 to 1, logarithmic after: step 0 stays on the axis.
            for ax in list(axes.flat)[:len(metrics)]:
                ax.set_xscale("symlog", linthresh=1)
                ax.set_xlim(left=0)
        for ax in list(axes.flat)[len(metrics):]:
            ax.axis("off")
        fig.legend(handles=self.legend_handles(), title=self.data["x"]["label"],
                   loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        fig.tight_layout()
        self.save(fig, fig_id, title,
                  f"{caption_start} Lines: mean over seeds; bands: ± one standard error "
                  f"({self.seeds_text()}). Runs that diverged or failed are left out.{self.left_out_text()}"
                  + (f" Dotted vertical lines: the ends of the task sequence's phases (steps "
                     f"{', '.join(str(int(b)) for b in boundaries)})." if boundaries else ""))

    # --- figures ------------------------------------------------------------------------
    def figure_final(self):
        """Figure 1 of the paper: final values against the swept initialization parameter."""
        plt, np = self.plt, self.np
        metrics = self.data["final_metrics"]
        if not metrics:
            return
        x = self.data["x"]
        series, categories = self.series_and_categories()
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.1 * len(metrics), 3.6), squeeze=False)
        log_panels = []
        for ax, metric in zip(axes[0], metrics):
            drawn = []
            for si, s in enumerate(series):
                xs, means, sems = [], [], []
                for g, color in zip(self.groups, self.colors):
                    if g["series"] != s:
                        continue
                    values = [self.runs[r]["final"].get(metric) for r in g["ok_runs"]]
                    values = [v for v in values if v is not None and math.isfinite(v)]
                    if not values:
                        continue
                    drawn += values
                    pos = g["x_value"] if x["numeric"] else categories.index(g["x_text"])
                    mean, sem = mean_and_sem(np, [[v] for v in values])
                    xs.append(pos)
                    means.append(mean[0])
                    sems.append(sem[0])
                    ax.scatter([pos] * len(values), values, s=9, color=color, alpha=0.35, lw=0, zorder=2)
                    ax.errorbar(pos, mean[0], yerr=sem[0], fmt=MARKERS[si % len(MARKERS)], color=color,
                                ms=7, capsize=3, zorder=3)
                if len(xs) > 1 and x["numeric"]:  # a trend line only along a numeric axis
                    ax.plot(xs, means, color="0.45", lw=1.2, ls=["-", "--", ":", "-."][si % 4],
                            zorder=1, label=s if s else None)
            ax.set_title(metric)
            ax.set_ylabel(metric_label(metric))
            # Values over more than two decades (a diverging structure next to its controls)
            # would flatten everything else on a linear axis.
            if drawn and min(drawn) > 0 and max(drawn) / min(drawn) > 100:
                ax.set_yscale("log")
                log_panels.append(metric)
            self.format_x_axis(ax, categories)
            if any(s for s in series):
                ax.legend(frameon=False)
        fig.tight_layout()
        self.save(fig, "fig1_final", "Final weight change and alignment against the initialization",
                  f"Final value of each metric against {x['label']} (the paper's Figure 1 layout). "
                  f"Large markers: mean over seeds with ± one standard error; small dots: single "
                  f"seeds ({self.seeds_text()}). Rich learning shows as a large weight change and low "
                  f"alignment with the initial state; lazy learning as the opposite. Runs that "
                  f"diverged or failed are left out.{self.left_out_text()}"
                  + (f" Log axis for {', '.join(log_panels)}: its values span more than two decades."
                     if log_panels else ""))

    def figure_trajectories(self):
        header = []
        for h, _ in self.metrics.values():
            # A sequence's phase index and its kernel overlap (logged at phase boundaries only:
            # summary.csv has it as kernel_overlap@P) are not curves.
            header += [c for c in h if c not in ("step", "phase", "kernel_overlap") and c not in header]
        self.curves("fig2_trajectories", "Every logged metric over training", header,
                    "Every logged metric against the training step, one line per swept value.")

    def figure_spectra(self):
        plt, np = self.plt, self.np
        param = self.data.get("spectrum_param")
        if not param:
            return
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        drawn = 0
        for gi, (g, color) in enumerate(zip(self.groups, self.colors)):
            runs = g["ok_runs"] or g["runs"]
            path = os.path.join(self.exp_dir, "runs", runs[0], "weights", f"{param}_init.npy")
            if not os.path.isfile(path):
                continue
            try:
                w = np.load(path).astype(np.float64)
            except (OSError, ValueError, TypeError) as e:
                raise ReportDataError(f"{path}: not a readable .npy matrix ({one_line(e, 200)})")
            if w.ndim != 2:  # a vector parameter has no spectrum to draw
                continue
            s = np.linalg.svd(w, compute_uv=False)
            keep = s > 1e-6 * s[0] if s.size and s[0] > 0 else np.zeros_like(s, dtype=bool)
            k = np.arange(1, s.size + 1)
            eranks = [self.runs[r]["erank"][param] for r in g["runs"]
                      if param in self.runs[r].get("erank", {})]
            erank = f" (erank {np.mean(eranks):.1f})" if eranks else ""
            ax.plot(k[keep], s[keep], color=color, lw=1.8, ls=LINESTYLES[gi % len(LINESTYLES)],
                    marker="." if keep.sum() < 30 else None,
                    label=g["label"] + erank)
            drawn += 1
        if not drawn:
            plt.close(fig)
            return
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("index k (singular values in decreasing order)")
        ax.set_ylabel(f"singular value s_k of {param}(0)")
        ax.legend(frameon=False, loc="lower left", fontsize=8)
        fig.tight_layout()
        self.save(fig, "fig3_spectra", f"Singular-value spectra of the initial {param}",
                  f"Singular values of {param}(0) for each swept value (the first seed's matrix), "
                  f"log-log. Values below 1e-6 of the largest (the numerical-rank tolerance; weights are stored as float32) are not drawn. The legend gives the "
                  f"Roy–Vetterli effective rank, averaged over seeds.")

    def series_and_categories(self):
        """The series (other swept keys) and the x values as text, in order of appearance."""
        series, categories = [], []
        for g in self.groups:
            if g["series"] not in series:
                series.append(g["series"])
            if g["x_text"] not in categories:
                categories.append(g["x_text"])
        return series, categories

    def format_x_axis(self, ax, categories):
        """The swept value's axis: numeric (log for ranks) with a tick per value, or one
        labelled slot per category."""
        x = self.data["x"]
        ax.set_xlabel(x["label"])
        if x["numeric"]:
            if x["log"]:
                ax.set_xscale("log")
            ticks = sorted({g["x_value"] for g in self.groups})
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks])
            ax.minorticks_off()
        else:
            labels = {g["x_text"]: g["x_label"] for g in self.groups}
            ax.set_xticks(range(len(categories)))
            ax.set_xticklabels([labels[c] for c in categories], rotation=25, ha="right")
            ax.set_xlim(-0.5, len(categories) - 0.5)

    def group_position(self, g, categories):
        return g["x_value"] if self.data["x"]["numeric"] else categories.index(g["x_text"])

    def initial_value(self, run_id, column):
        header, cols = self.metrics.get(run_id, ([], {}))
        if column not in cols or not cols["step"] or cols["step"][0] != 0:
            return None
        v = cols[column][0]
        return v if v is not None and math.isfinite(v) else None

    def figure_linear_theory(self):
        """PAPER.md section 7: linear2 on teacher_student. Left: the final kernel alignments
        against the x axis. Right: the initial cosine between W_1(0)^T W_1(0) and beta beta^T
        (kernel_task_alignment of the W_1^T W_1 part, normalize: frobenius), measured, next to
        its expectation over random teachers, sqrt(PR)/d with PR the participation ratio of
        W_1(0)'s squared singular values (beta's direction is uniform on the sphere for any
        kappa, F having Haar singular vectors; not drawn for teacher-aligned inits)."""
        plt, np = self.plt, self.np
        if self.data.get("model") != "linear2" or self.data.get("task") != "teacher_student":
            return
        options = self.data.get("metric_options", {})
        def unquote(t):
            return (t or "").strip().strip("'\"")
        alignment_cols = [c for c in self.data["final_metrics"]
                          if unquote(options.get(c, {}).get("name", c)) == "kernel_alignment"]
        # Population kernels only (the default here): a sampled cosine has another expectation.
        cosine_cols = [c for c, o in options.items()
                       if unquote(o.get("name")) == "kernel_task_alignment"
                       and unquote(o.get("normalize")) == "frobenius"
                       and unquote(o.get("param")) in ("w_2", "[w_2]")
                       and unquote(o.get("population")) not in ("false", "False")]
        if not alignment_cols and not cosine_cols:
            return
        series, categories = self.series_and_categories()
        panels = len(alignment_cols) + (1 if cosine_cols else 0)
        fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.9), squeeze=False)
        axes = list(axes[0])
        x = self.data["x"]
        predictions = {}  # group label -> mean sqrt(PR) / d over its runs' W_1(0)
        for g in self.groups:
            # W_1(0) built from the teacher (teacher_aligned): the expectation over random
            # teachers does not apply. Read from each run's own init spec.
            if any("teacher_aligned" in self.runs[r].get("init_specs", {}).get("W_1", "") for r in g["runs"]):
                continue
            preds = []
            for r in g["ok_runs"]:
                path = os.path.join(self.exp_dir, "runs", r, "weights", "W_1_init.npy")
                if not os.path.isfile(path):
                    continue
                try:
                    w = np.load(path).astype(np.float64)
                except (OSError, ValueError, TypeError) as err:
                    raise ReportDataError(f"{path}: not a readable .npy matrix ({one_line(err, 200)})")
                sv2 = np.linalg.svd(w, compute_uv=False) ** 2
                if sv2.sum() > 0:
                    preds.append(math.sqrt(sv2.sum() ** 2 / np.sum(sv2 ** 2)) / w.shape[1])
            if preds:
                predictions[g["label"]] = float(np.mean(preds))
        comparison = []
        for ci, col in enumerate(alignment_cols):
            ax = axes.pop(0)
            for si, s in enumerate(series):
                pts = []
                for g in self.groups:
                    if g["series"] != s:
                        continue
                    vals = [self.runs[r]["final"].get(col) for r in g["ok_runs"]]
                    vals = [v for v in vals if v is not None and math.isfinite(v)]
                    if vals:
                        m, e = mean_and_sem(np, [[v] for v in vals])
                        pts.append((self.group_position(g, categories), m[0], e[0]))
                if not pts:
                    continue
                pts.sort()
                color = OKABE_ITO[(si) % len(OKABE_ITO)]
                ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts],
                            color=color, ls="none", marker=MARKERS[ci % len(MARKERS)],
                            ms=5, capsize=3, label=f"measured{', ' + s if s else ''}")
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, lw=0.8, alpha=0.5)
                # The W_1^T W_1 part: from a small init, W_1^T W_1 ends along beta beta^T, so its
                # alignment with t = 0 tends to cos(W_1(0)^T W_1(0), beta beta^T): sqrt(PR) / d.
                if (unquote(options.get(col, {}).get("param")) in ("w_2", "[w_2]")
                        and unquote(options.get(col, {}).get("population")) not in ("false", "False")):
                    pred = sorted((self.group_position(g, categories), predictions[g["label"]])
                                  for g in self.groups if g["series"] == s and g["label"] in predictions)
                    if pred:
                        ax.plot([p[0] for p in pred], [p[1] for p in pred], color=color, lw=1.4, ls="--",
                                label=f"small-init limit sqrt(PR) / d{', ' + s if s else ''}")
            ax.set_ylabel("final kernel alignment\n(1 = unchanged since t = 0)")
            ax.set_title(col)
            ax.legend(frameon=False, fontsize=7)
            self.format_x_axis(ax, categories)
        if cosine_cols:
            ax = axes.pop(0)
            col = cosine_cols[0]
            for si, s in enumerate(series):
                measured, predicted = [], []
                for g in self.groups:
                    if g["series"] != s:
                        continue
                    pos = self.group_position(g, categories)
                    vals = [self.initial_value(r, col) for r in g["ok_runs"]]
                    vals = [v for v in vals if v is not None]
                    if vals:
                        m, e = mean_and_sem(np, [[v] for v in vals])
                        measured.append((pos, m[0], e[0]))
                    if g["label"] in predictions:
                        predicted.append((pos, predictions[g["label"]]))
                        # A gap in standard errors needs a spread beyond float rounding (at full
                        # rank with equal singular values the cosine is the same for every teacher).
                        if len(vals) > 1 and e[0] > 1e-6 * abs(m[0]):
                            comparison.append((g["label"], m[0], e[0], predictions[g["label"]]))
                color = OKABE_ITO[si % len(OKABE_ITO)]
                if measured:
                    measured.sort()
                    ax.errorbar([p[0] for p in measured], [p[1] for p in measured], yerr=[p[2] for p in measured],
                                fmt="o", color=color, ms=5, capsize=3,
                                label=f"measured at t = 0{', ' + s if s else ''}")
                if predicted:
                    predicted.sort()
                    ax.plot([p[0] for p in predicted], [p[1] for p in predicted], color=color, lw=1.4, ls="--",
                            label=f"theory: sqrt(PR) / d{', ' + s if s else ''}")
            ax.set_ylabel("cos(W_1(0)^T W_1(0), beta beta^T)")
            ax.set_title(f"initial task alignment of W_1^T W_1 ({col})")
            ax.legend(frameon=False, fontsize=7)
            self.format_x_axis(ax, categories)
        fig.tight_layout()
        if comparison:
            worst = max(comparison, key=lambda c: abs(c[1] - c[3]) / c[2])
            match = (f" Largest gap between measurement and theory, in standard errors (groups of several "
                     f"teachers with a spread): {worst[0]}, measured {worst[1]:.4f} ± {worst[2]:.4f}, theory "
                     f"{worst[3]:.4f} ({abs(worst[1] - worst[3]) / worst[2]:.1f} standard errors).")
        else:
            match = ""
        self.save(fig, "fig5_linear_theory", "The linear theory (PAPER.md section 7)",
                  "Left panels: final tangent-kernel alignment with t = 0 against " + x["label"] + " (mean ± s.e.m. over "
                  f"seeds and teachers, {self.seeds_text()}); dashed, for the W_1^T W_1 part, its small-init limit "
                  "sqrt(PR)/d (W_1^T W_1 ends along beta beta^T, so its alignment with t = 0 tends to the initial "
                  "cosine on the right). Right panel: cosine between W_1(0)^T W_1(0) (the W_1 part of "
                  "the kernel) and beta beta^T at t = 0, measured (mean ± s.e.m. over teachers), and its expectation "
                  "over random teachers, sqrt(PR)/d, PR = (Σ s_k²)² / Σ s_k⁴ of W_1(0)'s singular values (beta's "
                  "direction is uniform on the sphere for every kappa); not drawn for teacher-aligned "
                  "initializations, which depend on the teacher." + match + self.left_out_text())

    def figure_learning(self):
        wanted = [m for m in ("loss", "accuracy", "test_loss", "test_accuracy")]
        self.curves("fig4_learning", "Learning curves", wanted,
                    "Training loss and accuracy (and test loss and accuracy where logged) against "
                    "the training step, one line per swept value; loss on a log axis.")


def main(argv):
    if len(argv) != 2:
        print("usage: plot_report.py REPORT_DATA.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            data = json.load(f)
        out_dir = os.path.dirname(os.path.abspath(argv[1]))
        report = Report(data, out_dir)
        report.figure_final()
        report.figure_trajectories()
        report.figure_spectra()
        report.figure_learning()
        report.figure_linear_theory()
        with open(os.path.join(out_dir, "figures.json"), "w") as f:
            json.dump(report.figures, f, indent=1)
    except ReportDataError as e:
        print(one_line(e), file=sys.stderr)
        return 2
    except Exception as e:  # one line for the user, never a traceback
        print(f"{type(e).__name__}: {one_line(e)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
