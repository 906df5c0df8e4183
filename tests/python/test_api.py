"""richlazy.sample, describe and list against the command line's tasks sample, init describe
and list."""
import json

import numpy as np
import pytest
import richlazy

from conftest import cli


def test_sample_gives_the_trials_tasks_sample_writes(tmp_path):
    cli("tasks", "sample", "2AF", "--trials", 20, "--seed", 7, "--set", "cohs=[0, 51.2]", "--out", tmp_path)
    s = richlazy.sample("2AF", 20, seed=7, cohs=[0, 51.2])
    index = json.loads((tmp_path / "index.json").read_text())
    for name in ("inputs", "targets", "mask"):
        np.testing.assert_array_equal(s[name], np.load(tmp_path / f"{name}.npy"))
    for name, value in s["trial_vars"].items():
        np.testing.assert_array_equal(value, np.load(tmp_path / f"{name}.npy"))
    assert set(s["trial_vars"]) == set(index["files"]) - {"inputs", "targets", "mask"}
    assert s["inputs"].dtype == np.float32 and s["targets"].dtype == np.int64
    assert s["inputs"].shape == (index["steps"], 20, 3)
    assert s["info"]["input_names"] == index["input_names"] and s["info"]["decision"] == tuple(index["decision"])
    assert set(np.unique(s["trial_vars"]["coherence"])) <= {0.0, 51.2}
    with pytest.raises(richlazy.ConfigError, match=r"unknown task 'twoAF'"):
        richlazy.sample("twoAF")
    with pytest.raises(richlazy.ConfigError, match=r"richlazy\.sample\(dt_ms=-1\): task\.dt_ms"):
        richlazy.sample("2AF", dt_ms=-1)


def test_describe_gives_the_matrix_and_measures_init_describe_writes(tmp_path):
    cli("init", "describe", "--spec", "{name: low_rank, rank: 5, gain: 1.25}", "--size", 80, "--seed", 3,
        "--npy", tmp_path / "w.npy", "--json", tmp_path / "w.json")
    d = richlazy.describe({"name": "low_rank", "rank": 5, "gain": 1.25}, size=80, seed=3)
    np.testing.assert_array_equal(d["matrix"], np.load(tmp_path / "w.npy"))
    expected = json.loads((tmp_path / "w.json").read_text())
    assert {k: d[k] for k in expected} == expected
    sv = np.linalg.svd(d["matrix"].astype(np.float64), compute_uv=False)
    assert d["rank"] == 5 == (sv > 1e-4 * sv[0]).sum()  # float32 rounding leaves ~1e-7 * sv[0] elsewhere
    # YAML text works as the command line's --spec does.
    np.testing.assert_array_equal(richlazy.describe("{name: low_rank, rank: 5, gain: 1.25}", 80, 3)["matrix"],
                                  d["matrix"])
    with pytest.raises(richlazy.ConfigError, match=r"rank"):
        richlazy.describe({"name": "low_rank", "rank": 0}, size=10)


def test_list_names_what_the_command_line_lists():
    _, text, _ = cli("list")
    everything = richlazy.list()
    assert set(everything) == {"initializers", "tasks", "models", "metrics", "optimizers"}
    sections = text.split("\n\n")  # one paragraph per kind, in this order
    for kind, section in zip(("tasks", "models", "initializers", "metrics", "optimizers"), sections):
        listed = {line.split(":")[0].strip() for line in section.splitlines()[1:] if line.startswith("  ") and
                  not line.startswith("      ")}
        # The command line lists the built-in components; Python adds what this process registered.
        assert listed and listed <= {e["name"] for e in everything[kind]}, kind
    tasks = {e["name"]: e for e in richlazy.list("tasks")}
    assert {"2AF", "DMS", "CXT", "sfmnist", "teacher_student"} <= set(tasks)
    gauss = next(e for e in richlazy.list("initializers") if e["name"] == "gaussian")
    assert any(p["name"] == "gain" and isinstance(p["default"], float) for p in gauss["params"])
    with pytest.raises(ValueError, match="kind: one of"):
        richlazy.list("widgets")
