"""Network.load / simulate / tangent_kernel / probe_trials and richlazy.eval, checked against
the metrics the runs logged and against computations written here in NumPy."""
import json

import numpy as np
import pytest
import richlazy

from conftest import cli


def cosine(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def final_row(exp, run_id):
    m = exp.metrics(run_id)
    return {k: v[-1] for k, v in m.items()}


def test_simulate_reproduces_the_hidden_states_the_metrics_saw(trained):
    for run_id in trained.runs:
        init = trained.network(run_id, "init")
        final = trained.network(run_id, "final")
        probe = final.probe_trials()
        x = probe["inputs"]
        assert x.shape[1:] == (64, 3)
        np.testing.assert_array_equal(init.probe_trials()["inputs"], x)
        _, h0 = init.simulate(x)
        _, h1 = final.simulate(x)
        last = final.info["decision"][1] - 1
        logged = final_row(trained, run_id)
        # rep_alignment: the cosine between H H^T at init and now, H the hidden states at the
        # last decision step of the probe trials.
        k0 = h0[last].astype(np.float64) @ h0[last].astype(np.float64).T
        k1 = h1[last].astype(np.float64) @ h1[last].astype(np.float64).T
        assert abs(cosine(k0, k1) - logged["rep_alignment"]) < 1e-6
        # sign_similarity: the fraction of activities in the decision window with the same sign.
        d0, d1 = final.info["decision"]
        same = (np.sign(h0[d0:d1]) == np.sign(h1[d0:d1])).mean()
        assert abs(same - logged["sign_similarity"]) <= 1.0 / h0[d0:d1].size + 1e-12
        # kernel_alignment: the cosine between the tangent kernels (w.r.t. W_rec) of the first
        # kernel_trials probe trials at init and now, rows the steps the loss scores.
        kx = x[:, :probe["kernel_trials"]]
        steps = np.nonzero(probe["mask"].any(axis=1))[0]
        ka = cosine(init.tangent_kernel(kx, steps=steps), final.tangent_kernel(kx, steps=steps))
        assert abs(ka - logged["kernel_alignment"]) < 1e-5


def test_simulate_and_the_tangent_kernel_equal_a_numpy_computation(trained):
    net = trained.network(trained.runs[1])
    row = next(r for r in trained.summary if r["run_id"] == trained.runs[1])
    assert net.info["config"]["init"]["W_rec"]["rank"] == row["init.W_rec.rank"] and net.info["hidden_size"] == 32
    assert net.info["config"]["metrics"]["probe_trials"] == 64
    w = net.weights
    assert set(w) == {"W_in", "W_rec", "W_out"} and w["W_rec"].shape == (32, 32)
    assert {p["name"]: p["role"] for p in net.parameters} == {"W_in": "input", "W_rec": "recurrent",
                                                              "W_out": "readout"}
    x = richlazy.sample("2AF", 50, seed=9)["inputs"]
    logits, hidden = net.simulate(x)
    # 2AF: alpha = dt / tau = 1, so h_t = relu(W_in x_t + W_rec h_{t-1}), logits = W_out h_t.
    h = np.zeros((50, 32))
    for t in range(x.shape[0]):
        h = np.maximum(x[t] @ w["W_in"].T.astype(np.float64) + h @ w["W_rec"].T.astype(np.float64), 0)
        np.testing.assert_allclose(hidden[t], h, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(logits[t], h @ w["W_out"].T.astype(np.float64), rtol=1e-5, atol=1e-5)
    # One trial as [T, n_in].
    l1, h1 = net.simulate(x[:, 3])
    assert h1.shape == (x.shape[0], 32)
    np.testing.assert_allclose(h1, hidden[:, 3], rtol=1e-6, atol=1e-6)
    # The kernel w.r.t. the readout is exact: K[(t,b,k), (t',b',k')] = [k == k'] h_{t,b} . h_{t',b'}.
    steps = [2, 5]
    k = net.tangent_kernel(x[:, :4], param="W_out", steps=steps)
    hs = hidden[steps][:, :4].reshape(-1, 32).astype(np.float64)  # rows (step, trial)
    expected = np.kron(hs @ hs.T, np.eye(3))                      # rows (step, trial, class)
    assert k.shape == expected.shape == (24, 24)
    np.testing.assert_allclose(k, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    with pytest.raises(ValueError, match=r"inputs: expected an array \[steps, trials, 3\]"):
        net.simulate(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match="no parameter 'W_x'"):
        net.tangent_kernel(x[:, :2], param="W_x")
    with pytest.raises(ValueError, match="inputs: no trials"):
        net.tangent_kernel(x[:, :0])
    with pytest.raises(TypeError, match="got booleans"):
        net.tangent_kernel(x[:, :2], steps=np.ones(x.shape[0], bool))


def test_eval_reproduces_the_logged_accuracy_and_the_command_line(trained, tmp_path):
    run_id = trained.runs[1]
    logged = final_row(trained, run_id)["test_accuracy"]
    ev = richlazy.eval(trained.run_dir(run_id), trials=3000, seed=4)
    # Two means of fractions in [0, 1] (variance <= 1/4) over 500 and 3,000 trials differ by
    # more than 4 sqrt(1/2000 + 1/12000) = 0.097 with probability below 1e-4.
    assert abs(ev["scores"]["accuracy"] - logged) < 0.097
    assert ev["trials"] == 3000 and ev["which"] == "final" and ev["task_name"] == "2AF"
    assert [p["signed_coherence"] for p in ev["psychometric"]["points"]][:2] == [-51.2, -25.6]
    # Its hidden states are simulate's on the same inputs.
    _, hidden = trained.network(run_id).simulate(ev["arrays"]["inputs"])
    np.testing.assert_allclose(ev["arrays"]["hidden"], hidden, rtol=1e-6, atol=1e-6)
    # The command line writes the same numbers; out= writes the same files.
    cli("eval", trained.run_dir(run_id), "--trials", 3000, "--seed", 4, "--out", tmp_path / "cli")
    ev2 = richlazy.eval(trained.run_dir(run_id), trials=3000, seed=4, out=tmp_path / "py")
    a = json.loads((tmp_path / "cli" / "index.json").read_text())
    b = json.loads((tmp_path / "py" / "index.json").read_text())
    assert a["scores"] == b["scores"] == ev["scores"] == ev2["scores"]
    assert a["accuracy_per_condition"] == ev["accuracy_per_condition"]
    np.testing.assert_array_equal(np.load(tmp_path / "cli" / "hidden.npy"), ev["arrays"]["hidden"])
    # Another task with the same sizes, with options; and the initial network at chance.
    ev3 = richlazy.eval(trained.run_dir(run_id), which="init", trials=500, cohs=[51.2])
    assert [r["value"] for r in ev3["accuracy_per_condition"]["coherence"]] == [51.2]
    with pytest.raises(richlazy.ConfigError, match="must be init or final"):
        richlazy.eval(trained.run_dir(run_id), which="best")
    with pytest.raises(richlazy.ConfigError, match="not a run folder"):
        richlazy.Network.load(tmp_path)


def test_a_sequence_network_reads_and_writes_through_the_chosen_task(tmp_path):
    """A run of train.phases: Network.load(task=...) uses that task's channels and head, and
    eval(task=...) scores the task the run logged."""
    exp = richlazy.run({
        "experiment": "seq", "model": {"name": "ctrnn", "hidden_size": 16},
        "train": {"phases": [{"task": {"name": "2AF"}, "iterations": 40},
                             {"task": {"name": "DMS"}, "iterations": 40}], "batch_size": 8},
        "metrics": {"every": 40, "probe_trials": 8, "kernel_trials": 2, "test_trials": 64, "names": ["loss"]},
    }, out=tmp_path, quiet=True, report=False)
    run_dir = exp.run_dir(exp.runs[0])
    first = richlazy.Network.load(run_dir)
    dms = richlazy.Network.load(run_dir, task="DMS")
    w = dms.weights
    assert w["W_in"].shape == (16, 6) and w["W_out"].shape == (6, 16)
    x = richlazy.sample("DMS", 5, seed=1)["inputs"]  # [T, B, 3]
    wide = np.zeros(x.shape[:2] + (6,), np.float32)
    wide[..., 3:] = x  # DMS's channels come after 2AF's
    logits, hidden = dms.simulate(wide)
    assert logits.shape == (x.shape[0], 5, 3)
    h = np.zeros((5, 16))
    for t in range(x.shape[0]):
        h = np.maximum(0, wide[t] @ w["W_in"].T.astype(np.float64) + h @ w["W_rec"].T.astype(np.float64))
        np.testing.assert_allclose(hidden[t], h, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(logits[t], h @ w["W_out"][3:].T, rtol=1e-4, atol=1e-5)  # DMS's head
    assert first.simulate(wide)[0].shape == (x.shape[0], 5, 3)
    np.testing.assert_allclose(first.simulate(wide)[0][-1], h @ w["W_out"][:3].T, rtol=1e-4, atol=1e-5)
    with pytest.raises(richlazy.ConfigError, match="not a task of"):
        richlazy.Network.load(run_dir, task="CXT")
    ev = richlazy.eval(run_dir, task="DMS", trials=64)
    assert ev["task_name"] == "DMS" and 0 <= ev["scores"]["accuracy"] <= 1
