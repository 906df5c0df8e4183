"""Shared set-up of the Python module's tests (run by CTest: tests/CMakeLists.txt sets
PYTHONPATH to the build's python/ folder and RICHLAZY_BINARY to its command line)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

BINARY = os.environ.get("RICHLAZY_BINARY", "build/bin/richlazy")
SOURCE = Path(os.environ.get("RICHLAZY_SOURCE_DIR", Path(__file__).resolve().parents[2]))

#: A small 2AF experiment: 32 units, 200 updates, two seeds; seconds to train.
SMALL = """experiment: small
seed: 0
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 32}
init:
  W_rec: {name: low_rank, rank: 32, gain: 1.25}
train:
  iterations: 200
  batch_size: 32
  optimizer: {name: adam, lr: 0.01}
metrics:
  every: 100
  probe_trials: 64
  kernel_trials: 8
  test_trials: 500
  names: [loss, accuracy, test_accuracy, dw_rec, rep_alignment, kernel_alignment, sign_similarity]
sweep:
  init.W_rec.rank: [1, 32]
  seed: [0, 1]
"""


def cli(*args, check=True):
    """Runs the command line; returns (status, stdout, stderr)."""
    r = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"richlazy {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}")
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The small experiment, trained once for a test module through the Python module."""
    import richlazy
    out = tmp_path_factory.mktemp("trained")
    config = out / "small.yaml"
    config.write_text(SMALL)
    return richlazy.run(config, out=out / "results", quiet=True, report=False)


def read_json(path):
    return json.loads(Path(path).read_text())
