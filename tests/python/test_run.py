"""richlazy.run and richlazy.open against the command line."""
import csv

import pytest
import richlazy

from conftest import SMALL, cli

# Columns that time the work: they differ between any two runs of the same config.
TIMING = {"wall_seconds", "ms_per_iteration", "metric_seconds"}


def csv_without_timing(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def test_python_run_gives_the_cli_summary_bit_for_bit(tmp_path, small_config):
    cli("run", small_config, "--out", tmp_path / "cli", "--quiet", "--no-report")
    exp = richlazy.run(small_config, out=tmp_path / "py", quiet=True, report=False)
    a = csv_without_timing(tmp_path / "cli" / "small" / "summary.csv")
    b = csv_without_timing(exp.path / "summary.csv")
    assert len(a) == 4
    assert a == b  # every cell as text: bit-identical numbers
    for run_id in exp.runs:  # and every logged value of every run
        assert csv_without_timing(tmp_path / "cli" / "small" / "runs" / run_id / "metrics.csv") == \
               csv_without_timing(exp.run_dir(run_id) / "metrics.csv")
    # The parsed summary holds the same numbers.
    assert [r["run_id"] for r in exp.summary] == [r["run_id"] for r in a]
    for parsed, text in zip(exp.summary, a):
        assert parsed["dw_rec"] == float(text["dw_rec"])
        assert parsed["status"] == "ok"


def test_a_dict_config_and_overrides_run_like_the_file_and_set(tmp_path, small_config):
    cli("run", small_config, "--out", tmp_path / "cli", "--quiet", "--no-report",
        "--set", "train.iterations=100", "--set", "sweep.seed=[3]")
    config = {
        "experiment": "small",
        "seed": 0,
        "task": {"name": "2AF"},
        "model": {"name": "ctrnn", "hidden_size": 32},
        "init": {"W_rec": {"name": "low_rank", "rank": 32, "gain": 1.25}},
        "train": {"iterations": 200, "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01}},
        "metrics": {"every": 100, "probe_trials": 64, "kernel_trials": 8, "test_trials": 500,
                    "names": ["loss", "accuracy", "test_accuracy", "dw_rec", "rep_alignment", "kernel_alignment",
                              "sign_similarity"]},
        "sweep": {"init.W_rec.rank": [1, 32], "seed": [0, 1]},
    }
    # plan validates and trains nothing, writes nothing.
    richlazy.plan(config, overrides={"train.iterations": 100}, out=tmp_path / "plan")
    assert not (tmp_path / "plan").exists()
    with pytest.raises(richlazy.ConfigError, match="train.iterations must be"):
        richlazy.plan(config, overrides={"train.iterations": -1})
    exp = richlazy.run(config, overrides={"train.iterations": 100, "sweep.seed": [3]}, out=tmp_path / "py",
                       quiet=True, report=False)
    assert exp.runs == ["rank-1_seed-3", "rank-32_seed-3"]
    assert csv_without_timing(tmp_path / "cli" / "small" / "summary.csv") == csv_without_timing(exp.path / "summary.csv")
    # open() reads the same folder; metrics come as columns.
    again = richlazy.open(exp.path)
    assert again.summary == exp.summary
    m = again.metrics("rank-1_seed-3")
    assert list(m["step"]) == [0, 100]
    assert m["dw_rec"][0] == 0.0 and m["dw_rec"][1] > 0
    assert again.config["train"]["iterations"] == 100
    pd = pytest.importorskip("pandas")
    df = again.summary_df
    assert isinstance(df, pd.DataFrame) and list(df["run_id"]) == exp.runs
    assert again.metrics_df("rank-1_seed-3")["dw_rec"].iloc[1] == m["dw_rec"][1]


def test_bad_configs_raise_config_error_and_write_nothing(tmp_path, small_config):
    out = tmp_path / "out"
    # The message names where the value came from: the override, or the file's line and column.
    with pytest.raises(richlazy.ConfigError, match=r"^--set sweep\.init\.W_rec\.rank=\[1, 3000\]: init\.W_rec\.rank "
                                                   r"must be an integer in \[1, 32\], got 3000"):
        richlazy.run(small_config, overrides={"sweep.init.W_rec.rank": [1, 3000]}, out=out, quiet=True)
    small_config.write_text(SMALL.replace("rank: [1, 32]", "rank: [1, 3000]"))
    with pytest.raises(richlazy.ConfigError, match=r"small\.yaml:18:\d+: init\.W_rec\.rank must be an integer"):
        richlazy.run(small_config, out=out, quiet=True)
    with pytest.raises(richlazy.ConfigError, match=r"train\.iterations must be"):
        richlazy.run({"experiment": "x", "train": {"iterations": -5}}, out=out, quiet=True)
    with pytest.raises(richlazy.ConfigError, match=r"the config is empty"):
        richlazy.run({}, out=out, quiet=True)
    with pytest.raises(richlazy.ConfigError, match=r"unknown task 'twoAF'"):
        richlazy.run({"experiment": "x", "task": {"name": "twoAF"}}, out=out, quiet=True)
    with pytest.raises(TypeError, match=r"train\.lr: a value of type object cannot be a config value"):
        richlazy.run({"experiment": "x", "train": {"lr": object()}}, out=out, quiet=True)
    with pytest.raises(ValueError, match=r"threads: must be in \[1, 256\]"):
        richlazy.run(small_config, out=out, threads=1000)
    with pytest.raises(ValueError, match="overwrite and resume cannot be combined"):
        richlazy.run(small_config, out=out, overwrite=True, resume=True)
    with pytest.raises(TypeError, match="jobs: expected an integer"):
        richlazy.run(small_config, out=out, jobs=1.5)
    assert not out.exists()
    with pytest.raises(richlazy.ConfigError, match="not an experiment folder"):
        richlazy.open(tmp_path)
