"""The engine against numbers PyTorch computed (tests/fixtures/torch_parity.npz, made by
scripts/make_torch_fixtures.py with PyTorch 2.13.0, as the file records): the same weights
give the same probabilities, loss, every gradient and greedy outputs, in float64, for the RNN,
GRU and LSTM, 1 and 2 layers, a char-LM and the echo task. Runs without PyTorch."""

import json

import numpy as np
import pytest
from conftest import ROOT

from lstm_core import Model, ModelConfig, generate
from lstm_core.checkpoint import from_state_dict

FIXTURE = ROOT / "tests" / "fixtures" / "torch_parity.npz"
TOL = 1e-9


def cases() -> dict[str, dict[str, np.ndarray]]:
    with np.load(FIXTURE, allow_pickle=False) as npz:
        out: dict[str, dict[str, np.ndarray]] = {}
        for key in npz.files:
            if "/" in key:
                name, field = key.split("/", 1)
                out.setdefault(name, {})[field] = npz[key]
    return out


CASES = cases()


def model_of(case: dict[str, np.ndarray]) -> Model:
    meta = json.loads(case["meta"].item())
    vocab = tuple(meta["vocab"]) if meta["kind"] == "char-lm" else ()
    V = len(vocab) if vocab else 2
    config = ModelConfig(
        meta["kind"], meta["cell"], V if vocab else 1, meta["hidden"], meta["layers"], V, vocab
    )
    weights = {k[len("weight:") :]: v for k, v in case.items() if k.startswith("weight:")}
    return Model(config, from_state_dict(config, weights, np.float64))


def test_the_fixture_covers_every_cell_depth_and_task():
    with np.load(FIXTURE, allow_pickle=False) as npz:
        assert str(npz["torch_version"]).startswith("2.")
    assert set(CASES) == {
        f"{cell}-{layers}-{kind}"
        for cell in ("rnn", "gru", "lstm")
        for layers in (1, 2)
        for kind in ("char-lm", "echo")
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_probabilities_and_every_gradient_match_pytorch(name):
    case = CASES[name]
    model = model_of(case)
    inputs, targets = case["inputs"], case["targets"]
    np.testing.assert_allclose(model.run(inputs).probs, case["probs"], rtol=0, atol=TOL)
    loss, grads = model.loss_and_gradients(inputs, targets)
    assert abs(loss - float(case["loss"])) < TOL
    want = {k[len("grad:") :]: v for k, v in case.items() if k.startswith("grad:")}
    assert set(grads) == set(want)
    for key, g in want.items():
        np.testing.assert_allclose(grads[key], g, rtol=0, atol=TOL, err_msg=key)
        assert np.abs(g).max() > 1e-4, key  # a gradient that is there to compare


@pytest.mark.parametrize("name", sorted(CASES))
def test_greedy_outputs_match_pytorch(name):
    case = CASES[name]
    model = model_of(case)
    if model.config.kind == "char-lm":
        vocab = model.config.vocab
        prime = "".join(vocab[i] for i in case["prime"])
        steps = list(generate(model, prime, len(case["greedy"]), temperature=0))
        assert [s.index for s in steps] == case["greedy"].tolist()
        # the state carried from character to character: each step's whole distribution
        got = np.array([s.raw_probs for s in steps])
        np.testing.assert_allclose(got, case["greedy_probs"], rtol=0, atol=TOL)
    else:  # the echo model's answer at every step
        answers = model.run(case["inputs"]).probs.argmax(-1).T.reshape(-1)
        assert answers.tolist() == case["greedy"].tolist()
