"""Initializers and tasks written in Python, used by configs like built-in ones."""
import csv

import numpy as np
import pytest
import richlazy

INIT_CALLS = []
TASK_CALLS = []


def sparse_gaussian(shape, seed, density, gain):
    INIT_CALLS.append((shape, seed, density, gain))
    return sparse_gaussian_value(shape, seed, density, gain)


def sparse_gaussian_value(shape, seed, density, gain):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < density
    return rng.standard_normal(shape) * gain / np.sqrt(density * shape[1]) * mask


def sign_task(batch, seed, noise, coherence):
    """Report the sign of a noisy stimulus shown for 4 steps, during steps 4 and 5."""
    TASK_CALLS.append((batch, seed, noise, coherence))
    return sign_trials(batch, seed, noise, coherence)


def sign_trials(batch, seed, noise, coherence):
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], size=batch)
    x = np.zeros((6, batch, 2), np.float32)
    x[:4, :, 0] = 1.0  # fixation
    x[:4, :, 1] = coherence * sign + noise * rng.standard_normal((4, batch))
    labels = np.zeros((6, batch), np.int64)
    labels[4:] = np.where(sign > 0, 2, 1)
    return {"inputs": x, "labels": labels, "mask": np.ones((6, batch)), "ground_truth": (sign > 0).astype(int)}


richlazy.register_initializer("np_sparse", sparse_gaussian,
                              params={"density": (0.2, "connection probability"), "gain": 1.0},
                              description="sparse Gaussian drawn with NumPy")
richlazy.register_task("sign", sign_task, inputs=["fixation", "stimulus"], outputs=["fixate", "minus", "plus"],
                       steps=6, decision=(4, 6), dt_ms=100, params={"noise": 0.5, "coherence": 0.5})

CONFIG = """experiment: py_sweep
seed: 0
task: {name: sign, noise: 0.5}
model: {name: ctrnn, hidden_size: 16}
init:
  W_rec: {name: np_sparse, density: 0.2, gain: 1.0}
train:
  iterations: 150
  optimizer: {name: adam, lr: 0.01}
metrics: {every: 50, probe_trials: 32, kernel_trials: 4, test_trials: 400, names: [loss, test_accuracy, dw_rec]}
sweep:
  init.W_rec.density: [0.1, 0.5]
  seed: [0, 1]
"""


def summary_without_timing(path):
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k not in ("wall_seconds", "ms_per_iteration", "metric_seconds")}
                for r in csv.DictReader(f)]


def test_a_python_initializer_and_a_python_task_in_a_sweep(tmp_path):
    cfg = tmp_path / "py_sweep.yaml"
    cfg.write_text(CONFIG)
    INIT_CALLS.clear()
    exp = richlazy.run(cfg, out=tmp_path / "a", quiet=True, report=False)
    assert exp.runs == ["density-0.1_seed-0", "density-0.1_seed-1", "density-0.5_seed-0", "density-0.5_seed-1"]
    rows = {r["run_id"]: r for r in exp.summary}
    for r in rows.values():
        assert r["status"] == "ok"
        # The task is learnable (chance 0.5; the ideal observer ~0.98): the Python task's
        # trials and labels reached the training loop.
        assert r["test_accuracy"] > 0.75, r
    # Each run's initial W_rec is exactly what the Python function gave for the seed it was
    # passed, with the run's own options. The seed comes from the run seed's init/W_rec stream:
    # one per run seed, shared by the densities (common random numbers across a sweep).
    assert len(INIT_CALLS) == 4
    assert len({seed for _, seed, _, _ in INIT_CALLS}) == 2
    assert all(0 <= seed < 2**32 for _, seed, _, _ in INIT_CALLS)  # numpy.random.seed accepts them
    for run_id in exp.runs:
        w0 = np.load(exp.run_dir(run_id) / "weights" / "W_rec_init.npy")
        density = 0.1 if "density-0.1" in run_id else 0.5
        matches = [c for c in INIT_CALLS if np.array_equal(np.float32(sparse_gaussian_value(*c)), w0)]
        assert len(matches) == 1 and matches[0][0] == (16, 16) and matches[0][2] == density
        assert matches[0][3] == 1.0 and isinstance(matches[0][3], float)
        assert abs((w0 != 0).mean() - density) < 0.15
    # Reproducible from the seed: the same sweep again gives the same numbers, bit for bit.
    again = richlazy.run(cfg, out=tmp_path / "b", quiet=True, report=False)
    assert summary_without_timing(exp.path / "summary.csv") == summary_without_timing(again.path / "summary.csv")


def test_python_components_are_listed_sampled_and_described():
    entry = next(e for e in richlazy.list("initializers") if e["name"] == "np_sparse")
    assert entry["description"] == "sparse Gaussian drawn with NumPy"
    params = {p["name"]: p for p in entry["params"]}
    assert params["density"]["default"] == 0.2 and params["density"]["doc"] == "connection probability"
    assert "norm" in params  # the registry's common options apply to Python initializers too
    TASK_CALLS.clear()
    s = richlazy.sample("sign", 8, seed=3, noise=0.0)
    assert len(TASK_CALLS) == 1 and TASK_CALLS[0][0] == 8 and TASK_CALLS[0][2] == 0.0
    expected = sign_trials(*TASK_CALLS[0])
    np.testing.assert_array_equal(s["inputs"], expected["inputs"])
    np.testing.assert_array_equal(s["targets"], expected["labels"])
    np.testing.assert_array_equal(s["trial_vars"]["ground_truth"], expected["ground_truth"])
    assert s["info"]["decision"] == (4, 6) and s["info"]["output_names"] == ["fixate", "minus", "plus"]
    # The same seed, the same trials.
    np.testing.assert_array_equal(richlazy.sample("sign", 8, seed=3, noise=0.0)["inputs"], s["inputs"])
    d = richlazy.describe({"name": "np_sparse", "density": 0.3}, size=60, seed=0)
    assert d["matrix"].shape == (60, 60) and abs((d["matrix"] != 0).mean() - 0.3) < 0.05
    assert d["rank"] == 60


def test_python_options_are_validated_like_built_in_ones(tmp_path):
    cfg = tmp_path / "bad.yaml"
    for text, pattern in [
        (CONFIG.replace("density: 0.2,", "densty: 0.2,"), r"bad\.yaml:6:\d+: init\.W_rec\.densty .*did you mean 'density'"),
        (CONFIG.replace("gain: 1.0}", "gain: lots}"), r"bad\.yaml:6:\d+: init\.W_rec\.gain .*number"),
        (CONFIG.replace("noise: 0.5", "noise: [1]"), r"bad\.yaml:3:\d+: task\.noise"),
    ]:
        cfg.write_text(text)
        with pytest.raises(richlazy.ConfigError, match=pattern):
            richlazy.run(cfg, out=tmp_path / "out", quiet=True)
    richlazy.register_initializer("needs_rank", lambda shape, seed, rank: np.zeros(shape), params={"rank": int})
    with pytest.raises(richlazy.ConfigError, match=r"^richlazy\.describe\(spec\): rank is required \(declared in Python\)$"):
        richlazy.describe({"name": "needs_rank"})
    with pytest.raises(richlazy.ConfigError, match=r"rank must be an integer"):
        richlazy.describe({"name": "needs_rank", "rank": 2.5})
    with pytest.raises(richlazy.ConfigError, match=r"sample\(noise='x'\): task\.noise"):
        richlazy.sample("sign", 4, noise="x")
    assert not (tmp_path / "out").exists()


def test_registration_errors_and_replacement():
    with pytest.raises(ValueError, match="built into richlazy"):
        richlazy.register_initializer("gaussian", sparse_gaussian)
    with pytest.raises(ValueError, match=r"decision must be steps"):
        richlazy.register_task("t", sign_task, inputs=2, outputs=3, steps=6, decision=(4, 9))
    with pytest.raises(ValueError, match=r"loss must be"):
        richlazy.register_task("t", sign_task, inputs=2, outputs=3, steps=6, loss="hinge")
    with pytest.raises(TypeError, match="callable"):
        richlazy.register_initializer("x", 3)
    with pytest.raises(ValueError, match="'norm' is the option every initializer has"):
        richlazy.register_initializer("x", sparse_gaussian, params={"norm": 2.0})
    with pytest.raises(TypeError, match="name: expected a string"):
        richlazy.register_initializer(None, sparse_gaussian)
    with pytest.raises(TypeError, match="steps: expected an integer"):
        richlazy.register_task("t", sign_task, inputs=2, outputs=3, steps=6.5)
    with pytest.raises(ValueError, match="kind: 'initializer' or 'task'"):
        richlazy.unregister("model", "ctrnn")
    with pytest.raises(ValueError, match="built into richlazy"):
        richlazy.unregister("task", "2AF")
    assert not richlazy.unregister("tasks", "never_registered")
    richlazy.register_initializer("twice", lambda shape, seed: np.ones(shape))
    richlazy.register_initializer("twice", lambda shape, seed: 2 * np.ones(shape))
    assert (richlazy.describe({"name": "twice"}, size=4)["matrix"] == 2).all()
    assert richlazy.unregister("initializer", "twice")
    with pytest.raises(richlazy.ConfigError, match="unknown initializer 'twice'"):
        richlazy.describe({"name": "twice"}, size=4)


def test_an_exception_in_a_python_callback_fails_the_run_with_a_clean_error(tmp_path):
    def broken(shape, seed):
        raise ValueError("no good")

    richlazy.register_initializer("broken", broken)
    richlazy.register_initializer("wrong_shape", lambda shape, seed: np.zeros((3, 3)))
    config = {"experiment": "broken", "task": {"name": "sign"}, "model": {"name": "ctrnn", "hidden_size": 16},
              "init": {"W_rec": {"name": "broken"}}, "train": {"iterations": 10},
              "metrics": {"every": 5, "probe_trials": 8, "kernel_trials": 2, "names": ["loss"]}}
    with pytest.raises(richlazy.RunError) as err:
        richlazy.run(config, out=tmp_path, quiet=True, report=False)
    (why,) = err.value.failed.values()
    assert why.startswith("failed: initialization: initializer 'broken' (Python) for W_rec raised ValueError: "
                          "no good (at test_extensions.py:")
    assert "\n" not in why
    # check=False: the experiment comes back, the run's summary.json says why.
    config["init"]["W_rec"]["name"] = "wrong_shape"
    exp = richlazy.run(config, out=tmp_path, quiet=True, report=False, overwrite=True, check=False)
    assert "returned shape (3, 3), expected (16, 16)" in exp.summary[0]["status"]

    def bad_labels(batch, seed):
        return np.zeros((6, batch, 2)), np.full((6, batch), 7), None

    def raises(batch, seed):
        raise RuntimeError("the recording is missing")

    def extra_key(batch, seed):
        return {"inputs": np.zeros((6, batch, 2)), "labels": np.zeros((6, batch)), "onehot": np.zeros((6, batch, 3))}

    richlazy.register_task("extra_key", extra_key, inputs=2, outputs=3, steps=6)
    with pytest.raises(RuntimeError, match=r"returned 'onehot' \(shape \(6, 4, 3\)\): besides inputs, labels and mask"):
        richlazy.sample("extra_key", 4)
    richlazy.register_task("bad_labels", bad_labels, inputs=2, outputs=3, steps=6)
    richlazy.register_task("raises", raises, inputs=2, outputs=3, steps=6)
    with pytest.raises(RuntimeError, match=r"task 'bad_labels' \(Python\) returned labels that are not class "
                                           r"indices in 0\.\.2"):
        richlazy.sample("bad_labels", 4)
    config["init"]["W_rec"]["name"] = "gaussian"
    config["task"] = {"name": "raises"}
    with pytest.raises(richlazy.RunError) as err:
        richlazy.run(config, out=tmp_path, quiet=True, report=False, overwrite=True)
    (why,) = err.value.failed.values()
    assert "task 'raises' (Python) raised RuntimeError: the recording is missing (at test_extensions.py:" in why
    # A callback called with the wrong arguments fails as cleanly: Python raises the
    # TypeError before any frame of the callback exists.
    richlazy.register_initializer("forgot_option", lambda shape, seed, density: np.zeros(shape))
    config["task"] = {"name": "sign"}
    config["init"]["W_rec"]["name"] = "forgot_option"
    with pytest.raises(richlazy.RunError) as err:
        richlazy.run(config, out=tmp_path, quiet=True, report=False, overwrite=True, jobs=2)
    (why,) = err.value.failed.values()
    assert "initializer 'forgot_option' (Python) for W_rec raised TypeError: " in why and "density" in why

    def zero_mask(batch, seed):
        return np.zeros((6, batch, 2)), np.zeros((6, batch)), np.zeros((6, batch))

    richlazy.register_task("zero_mask", zero_mask, inputs=2, outputs=3, steps=6)
    with pytest.raises(RuntimeError, match="mask that is zero everywhere"):
        richlazy.sample("zero_mask", 4)
    # The process goes on: the module still works.
    assert richlazy.sample("sign", 2)["inputs"].shape == (6, 2, 2)
