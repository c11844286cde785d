"""from_torch / to_torch and the README's loading snippet: PyTorch modules and LSTM Lab models
compute the same thing."""

import re

import numpy as np
import pytest
from conftest import ROOT, small_model

import lstm_core
from lstm_core import LabError, from_torch, load_checkpoint, to_torch

torch = pytest.importorskip("torch")  # never a dependency: these run where it is installed


def torch_probs(rnn, head, model, inputs):
    cfg = model.config
    x = torch.from_numpy(inputs.T)  # (T, B)
    x = torch.nn.functional.one_hot(x.long(), cfg.input_size) if cfg.onehot else x[:, :, None]
    x = x.to(next(rnn.parameters()).dtype)
    with torch.no_grad():
        return torch.softmax(head(rnn(x)[0]), -1).numpy()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers", [1, 2])
def test_a_torch_model_becomes_the_same_model_here(cell, layers):
    torch.manual_seed(layers)
    kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    vocab = tuple("abcdefg")
    rnn, head = kind(7, 16, layers).double(), torch.nn.Linear(16, 7).double()
    model = from_torch(rnn, head, vocab=vocab, dtype=np.float64)
    assert model.config.cell == cell and model.config.num_layers == layers
    inputs = np.random.default_rng(0).integers(0, 7, (3, 20))
    np.testing.assert_allclose(
        model.run(inputs).probs, torch_probs(rnn, head, model, inputs), atol=1e-12
    )


def test_a_sample_goes_to_torch_and_back_unchanged():
    model = load_checkpoint(ROOT / "samples" / "lighthouse_en_h64.npz")
    rnn, head = to_torch(model)
    back = from_torch(rnn, head, vocab=model.config.vocab, lowercase=model.config.lowercase)
    np.testing.assert_allclose(back.flat, model.flat, atol=1e-6)
    ids = lstm_core.Vocabulary(model.config.vocab).encode("the keeper climbed")[None, :]
    np.testing.assert_allclose(model.run(ids).probs, torch_probs(rnn, head, model, ids), atol=3e-6)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_a_gru_goes_to_torch_and_back_unchanged(layers):
    model = small_model("echo", "gru", layers, hidden=6, seed=layers, dtype=np.float32)
    rnn, head = to_torch(model)
    assert isinstance(rnn, torch.nn.GRU) and rnn.num_layers == layers
    back = from_torch(rnn, head)
    assert back.config == model.config
    np.testing.assert_array_equal(back.flat, model.flat)


def readme_snippet() -> str:
    """The README's "Loading one into PyTorch" code, exactly as written there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index("Loading one into PyTorch") :]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


@pytest.mark.parametrize("kind", ["char-lm", "echo"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_the_readme_loads_a_gru_checkpoint_into_torch(tmp_path, monkeypatch, kind, layers):
    """Float32 on both sides: within 3e-6, as the README says of the LSTM; float64 on both sides
    (the file's float32 weights, widened): within 1e-13."""
    model = small_model(kind, "gru", layers, hidden=12, seed=layers, dtype=np.float32)
    lstm_core.save_checkpoint(model, tmp_path / "model.npz")
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(readme_snippet(), scope)
    rnn, head = scope["rnn"], scope["head"]
    assert isinstance(rnn, torch.nn.GRU)
    model = load_checkpoint(tmp_path / "model.npz")
    inputs = np.random.default_rng(layers).integers(
        0, model.config.input_size if kind == "char-lm" else 2, (3, 40)
    )
    assert np.abs(model.run(inputs).probs - torch_probs(rnn, head, model, inputs)).max() < 3e-6
    wide = load_checkpoint(tmp_path / "model.npz", dtype=np.float64)
    rnn, head = rnn.double(), head.double()
    assert np.abs(wide.run(inputs).probs - torch_probs(rnn, head, wide, inputs)).max() < 1e-13


def test_an_echo_model_needs_no_vocabulary():
    rnn, head = torch.nn.LSTM(1, 4), torch.nn.Linear(4, 2)
    assert from_torch(rnn, head).config.kind == "echo"


@pytest.mark.parametrize(
    "make",
    [
        lambda: (torch.nn.Linear(3, 4), torch.nn.Linear(4, 3)),
        lambda: (torch.nn.GRU(3, 4, bidirectional=True), torch.nn.Linear(8, 3)),
        lambda: (torch.nn.LSTM(3, 4, bidirectional=True), torch.nn.Linear(8, 3)),
        lambda: (torch.nn.RNN(3, 4, nonlinearity="relu"), torch.nn.Linear(4, 3)),
        lambda: (torch.nn.LSTM(3, 4), torch.nn.Linear(5, 3)),
    ],
)
def test_what_has_no_counterpart_is_refused_in_one_line(make):
    rnn, head = make()
    with pytest.raises(LabError) as info:
        from_torch(rnn, head, vocab=tuple("abc"))
    assert "\n" not in str(info.value)
