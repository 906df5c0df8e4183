"""richlazy from Python: run experiments, read their results, evaluate trained networks, and
add initializers and tasks written in Python.

    import richlazy
    exp = richlazy.run("configs/quick_2af.yaml", overrides={"train.iterations": 500})
    exp.summary_df                      # one row per run (pandas), exp.summary: list of dicts
    net = exp.network(exp.runs[0])      # the trained network
    logits, hidden = net.simulate(richlazy.sample("2AF", 100, seed=1)["inputs"])

Arrays are NumPy arrays, time-major like the command line's .npy files: inputs
[steps, trials, channels]. No Python torch is needed. The training itself runs in C++
(LibTorch), with the GIL released; progress goes to the process's standard output.
"""

import csv
import math
import operator
import os
from pathlib import Path

from . import _core

# open, list and eval are left out of __all__: `from richlazy import *` must not replace the
# builtins of the same names (call them as richlazy.open, richlazy.list, richlazy.eval).
__all__ = [
    "ConfigError", "RunError", "Experiment", "Network", "run", "plan", "sample", "describe",
    "register_initializer", "register_task", "unregister",
]


def _names(value):
    """A list of names from one name or several."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _integer(value, what):
    """An integer argument, refusing 3.7 and "6" rather than truncating or parsing them."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what}: expected an integer, got {value!r}") from None

#: Bad input: a config key, a task option, an initializer spec. Its message names where the
#: value came from (file:line:col for a config file) and the rule it broke. A ValueError.
ConfigError = _core.ConfigError


class RunError(RuntimeError):
    """Some runs of an experiment failed (their results are on disk, as for the command line:
    summary.json says why). ``.experiment`` is the Experiment, ``.failed`` maps run id to the
    reason. A run that diverged has not failed (status "diverged", as for the command line)."""

    def __init__(self, experiment, failed):
        self.experiment = experiment
        self.failed = failed
        first = next(iter(failed.items()))
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        super().__init__(f"{len(failed)} of {len(experiment.runs)} runs failed; {first[0]}: {first[1]}{more}")


def _value(text):
    """A summary.csv / metrics.csv cell as a number where it is one."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _read_csv(path):
    with Path(path).open(newline="") as f:
        rows = [{k: _value(v) for k, v in row.items()} for row in csv.DictReader(f)]
    return rows


def _pandas():
    try:
        import pandas
    except ImportError as e:
        raise ImportError("this needs pandas (Debian: apt-get install python3-pandas; pip: pip install pandas)") from e
    return pandas


class Experiment:
    """An experiment folder written by ``richlazy run`` (or :func:`run`)."""

    def __init__(self, path):
        self.path = Path(path)
        if not (self.path / "experiment.yaml").is_file():
            raise ConfigError(f"{path}: not an experiment folder (no experiment.yaml in it)")

    def __repr__(self):
        return f"richlazy.Experiment({str(self.path)!r}: {len(self.runs)} runs)"

    @property
    def name(self):
        return self.path.name

    @property
    def config(self):
        """experiment.yaml: run 0's resolved config plus the sweep, as a dict."""
        return _core.load_yaml(str(self.path / "experiment.yaml"))

    @property
    def summary(self):
        """summary.csv as a list of dicts, one per run (numbers as int or float)."""
        path = self.path / "summary.csv"
        if not path.is_file():
            _core.gather(str(self.path))
        return _read_csv(path)

    @property
    def summary_df(self):
        """summary.csv as a pandas DataFrame."""
        return _pandas().DataFrame(self.summary)

    @property
    def runs(self):
        """The run ids, in the sweep's order."""
        return [row["run_id"] for row in self.summary]

    def run_dir(self, run_id):
        path = self.path / "runs" / str(run_id)
        if not path.is_dir():
            raise KeyError(f"{run_id}: no such run in {self.path} (runs: {', '.join(map(str, self.runs[:8]))}"
                           f"{', ...' if len(self.runs) > 8 else ''})")
        return path

    def metrics(self, run_id):
        """A run's metrics.csv as {column: NumPy array}, one entry per logged step."""
        import numpy as np
        rows = _read_csv(self.run_dir(run_id) / "metrics.csv")
        if not rows:
            return {}
        return {k: np.array([math.nan if r[k] is None else r[k] for r in rows]) for k in rows[0]}

    def metrics_df(self, run_id):
        """A run's metrics.csv as a pandas DataFrame."""
        return _pandas().read_csv(self.run_dir(run_id) / "metrics.csv")

    def network(self, run_id, which="final"):
        """The run's saved network (``which``: init or final)."""
        return Network.load(self.run_dir(run_id), which)

    def report(self, x=None, metrics=None, formats=None):
        """Writes the report (figures and index.html) into report/ and returns index.html's path."""
        status = _core.report(str(self.path), x or "", _names(metrics), _names(formats))
        if status != 0:
            raise RuntimeError(f"{self.path}: the report has tables only (see the message above)")
        return self.path / "report" / "index.html"


def open(path):  # noqa: A001 (richlazy.open, like the command line's folder argument)
    """An existing experiment folder."""
    return Experiment(path)


def _overrides(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={_core.yaml_text(v)}" for k, v in overrides.items()]
    if isinstance(overrides, str):
        return [overrides]
    return [str(o) for o in overrides]


def run(config, overrides=None, out=None, jobs=None, pack=None, *, device=None, threads=1, quiet=False,
        overwrite=False, resume=False, report=True, check=True):
    """Runs an experiment, like ``richlazy run``, and returns its :class:`Experiment`.

    config: a config file's path, or the config as a dict.
    overrides: {"train.iterations": 2000, "sweep.seed": [0, 1]} or ["train.iterations=2000"] (--set).
    out: the output folder (default "results"); jobs, pack, device, threads, resume, overwrite:
    as the command line's options. report: write the report at the end.
    check: raise RunError when runs failed (their results stay on disk).
    Bad input raises ConfigError before anything is written.
    """
    directory, status = _run(config, overrides, out, jobs=jobs, pack=pack, device=device, threads=threads,
                             quiet=quiet, overwrite=overwrite, resume=resume, report=report, dry_run=False)
    exp = Experiment(directory)
    if check and status != 0:
        failed = {row["run_id"]: row["status"] for row in exp.summary if str(row["status"]).startswith("failed")}
        if failed:
            raise RunError(exp, failed)
    return exp


def plan(config, overrides=None, out=None):
    """Validates a config and plans its sweep without training or writing anything (--dry-run)."""
    _run(config, overrides, out, dry_run=True)


def _run(config, overrides, out, jobs=None, pack=None, device=None, threads=1, quiet=False, overwrite=False,
         resume=False, report=False, dry_run=False):
    """The native run (or plan): (experiment folder, exit status)."""
    is_dict = isinstance(config, dict)
    if is_dict and not config:
        # As for an empty config file: most likely not what was meant, and it would silently
        # train the default experiment.
        raise ConfigError("richlazy.run(config): the config is empty (no keys); give at least {'experiment': NAME}")
    return _core.run(
        None if is_dict else os.fspath(config), config if is_dict else None, _overrides(overrides),
        os.fspath(out) if out is not None else "results", _integer(jobs or 0, "jobs"),
        None if pack is None else str(pack), device or "", _integer(threads, "threads"), bool(quiet), bool(overwrite),
        bool(resume), bool(report), bool(dry_run))


def sample(task, trials=16, seed=0, **options):
    """``trials`` trials of ``task`` with its options, like ``richlazy tasks sample``: a dict with
    inputs [T, trials, n_in] float32, targets [T, trials] (class labels, int64) or
    [T, trials, n_out] (values), mask [T, trials], trial_vars {name: [trials]} and info (sizes,
    channel names, decision window)."""
    return _core.sample(task, _integer(trials, "trials"), _integer(seed, "seed"), options)


def describe(spec, size=None, seed=0, param="W_rec"):
    """Builds one matrix from an initializer spec ({"name": "low_rank", "rank": 30} or YAML
    text) and measures it, like ``richlazy init describe --spec``: a dict with ``matrix``
    (NumPy, float32), rank, norms, effective ranks and spectral radius."""
    return _core.describe(spec, _integer(size or 0, "size"), _integer(seed, "seed"), param)


def list(kind=None):  # noqa: A001 (richlazy.list, like `richlazy list`)
    """The registered components of ``kind`` (initializers, tasks, models, metrics,
    optimizers) as dicts with name, description and params; all kinds when None."""
    if kind is None:
        return {k: _core.list(k) for k in ("initializers", "tasks", "models", "metrics", "optimizers")}
    return _core.list(kind)


def eval(run_dir, which="final", task=None, trials=1000, seed=0, out=None, **options):  # noqa: A001
    """A run's saved network on fresh trials, like ``richlazy eval``: a dict with scores
    (loss, accuracy), accuracy_per_condition, psychometric (2AF), the task and seed, and
    ``arrays`` (inputs, targets, mask, trial_vars, logits, hidden: time-major NumPy arrays).
    ``task`` and ``options`` change the task; ``out`` also writes the files ("default": the
    command line's RUN_DIR/eval/...)."""
    return _core.eval(os.fspath(run_dir), which, task or "", options, _integer(trials, "trials"),
                      _integer(seed, "seed"), "" if out is None else os.fspath(out))


class Network:
    """A trained (or initial) network from a run folder: ``Network.load(run_dir, "final")``."""

    def __init__(self, core):
        self._core = core

    @classmethod
    def load(cls, run_dir, which="final", task=None):
        """``task``: for a run of a task sequence (train.phases), the label of the task whose
        input channels and readout head the network uses (default: the first phase's)."""
        return cls(_core.Network(os.fspath(run_dir), which, task or ""))

    def __repr__(self):
        info = self.info
        return (f"richlazy.Network({self._core.run_dir!r}, which={self._core.which!r}: {info['hidden_size']} units, "
                f"task {info['name']})")

    @property
    def weights(self):
        """{name: NumPy array} of its parameters (copies)."""
        return self._core.weights()

    @property
    def parameters(self):
        """[{name, shape, role}] of its parameters."""
        return self._core.parameters()

    @property
    def info(self):
        """Its task's sizes and names, hidden size, seed, and the run's config (config.yaml)."""
        info = self._core.info()
        info["config"] = _core.load_yaml(os.path.join(self._core.run_dir, "config.yaml"))
        return info

    def simulate(self, inputs):
        """(logits, hidden) for inputs [T, trials, n_in] (or one trial [T, n_in]): logits
        [T, trials, n_out] and hidden states [T, trials, N] after each step, float32."""
        return self._core.simulate(inputs)

    def tangent_kernel(self, inputs, param=None, steps=None):
        """The empirical tangent kernel K = J J^T w.r.t. ``param`` (default the recurrent
        weight) of the logits at ``steps`` (step indices; default all) for inputs
        [T, trials, n_in]: [R, R] float32 (the network's precision), R = steps x trials x
        outputs, rows ordered (step, trial, output) as the run's kernel_alignment."""
        if steps is not None:
            if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
                raise TypeError(f"steps: expected a list of step indices, got {steps!r}")
            steps = [*steps]
            if any(isinstance(s, bool) or type(s).__name__ == "bool_" for s in steps):
                raise TypeError("steps: expected step indices, got booleans (for a mask: numpy.nonzero(mask)[0])")
            steps = [_integer(s, "steps") for s in steps]
        return self._core.tangent_kernel(inputs, param or "", steps)

    def probe_trials(self):
        """The probe trials the run's metrics were measured on (its seed's "probe" stream):
        inputs, targets, mask, and kernel_trials (the first ones form the tangent kernel)."""
        return self._core.probe_trials()


def _count_or_names(value, what):
    """A channel count or a list of names."""
    if isinstance(value, (tuple, type([]))):
        return [str(n) for n in value]
    return _integer(value, what)


def _params(params):
    """[(name, default or type, doc)] from {name: default | type | (default, doc)}."""
    out = []
    if not isinstance(params, (dict, type(None))):
        raise TypeError(f"params: expected a dict {{option: default}}, got {type(params).__name__}")
    for name, spec in (params or {}).items():
        doc = ""
        if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], str):
            spec, doc = spec
        out.append((str(name), spec, doc))
    return out


def register_initializer(name, fn, params=None, description=""):
    """Adds an initializer written in Python, usable in configs as ``{name: NAME, ...}``.

    fn(shape, seed, **options) returns the matrix (a NumPy array of ``shape`` = (rows, cols);
    (rows,) for a vector parameter). ``seed``, an integer in [0, 2**32), comes from the run's
    named stream of the parameter (init/<param>): use it for all randomness, e.g.
    numpy.random.default_rng(seed), and runs are reproducible.
    params: {option: default}: the type of the default is the type the option must have
    (int, float, bool, str; anything else is passed as read); a type instead of a default
    makes the option required; (default, "doc") adds its documentation for ``richlazy.list``.
    Options are validated like a built-in's (unknown keys, wrong types: ConfigError naming the
    config file, line and key); the common options ``norm`` and ``gain`` rescale the result.
    An exception in fn fails that run with a message naming the initializer.
    Registering a name again replaces it; built-in names cannot be replaced.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a string, got {name!r}")
    if not callable(fn):
        raise TypeError("fn must be callable: fn(shape, seed, **options) -> array")
    _core.register_initializer(name, fn, _params(params), description)


def register_task(name, fn, *, inputs, outputs, steps, decision=None, dt_ms=100.0, loss="cross_entropy",
                  batch_size=32, params=None, description=""):
    """Adds a task written in Python (a NeuroGym environment, a recorded data set), usable in
    configs as ``task: {name: NAME, ...}``.

    fn(batch, seed, **options) returns (inputs, labels, mask) or a dict with those keys (and
    any per-trial variables [batch]): inputs [steps, batch, n_in]; labels [steps, batch] class
    indices (0 = fixation by convention) for loss "cross_entropy", or targets
    [steps, batch, n_out] for "mse"; mask [steps, batch] (None: every step). ``seed``, an
    integer in [0, 2**32), comes from the run's named stream (train, test, probe, ...): use it
    for all randomness.
    inputs, outputs: a count or a list of channel/class names. decision: (begin, end), the
    steps where accuracy is measured (default: every step). params: as for
    register_initializer.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a string, got {name!r}")
    if not callable(fn):
        raise TypeError("fn must be callable: fn(batch, seed, **options) -> (inputs, labels, mask)")
    if decision is not None:
        if len(decision) != 2:
            raise ValueError(f"decision: expected (begin, end), got {decision!r}")
        decision = (_integer(decision[0], "decision"), _integer(decision[1], "decision"))
    inputs = _count_or_names(inputs, "inputs")
    outputs = _count_or_names(outputs, "outputs")
    _core.register_task(name, fn, inputs, outputs, _integer(steps, "steps"), decision, float(dt_ms), str(loss),
                        _integer(batch_size, "batch_size"), _params(params), description)


def unregister(kind, name):
    """Removes a component registered from Python (kind: "initializer" or "task")."""
    return _core.unregister(kind, name)
