"""Checkpoints: round trip, PyTorch's layout and semantics, and every way a file can be bad."""

import contextlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from conftest import random_batch, small_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_core import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from lstm_core.checkpoint import FORMAT, state_dict_shapes, to_state_dict


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def torch_semantics_probs(weights: dict, meta: dict, ids: np.ndarray) -> np.ndarray:
    """What torch.nn.LSTM / nn.GRU / nn.RNN + nn.Linear compute from these weights (PyTorch's
    documented equations: LSTM gates in the order i, f, g, o, GRU r, z, n; two biases), for one
    sequence of ids."""
    V, H, L, cell = meta["input_size"], meta["hidden_size"], meta["num_layers"], meta["cell"]
    x = np.eye(V)[ids] if meta["kind"] == "char-lm" else ids[:, None].astype(float)
    for k in range(L):
        Wi, Wh = weights[f"{cell}.weight_ih_l{k}"], weights[f"{cell}.weight_hh_l{k}"]
        bi, bh = weights[f"{cell}.bias_ih_l{k}"], weights[f"{cell}.bias_hh_l{k}"]
        h, c, out = np.zeros(H), np.zeros(H), []
        for xt in x:
            z = Wi @ xt + bi + Wh @ h + bh
            if cell == "gru":
                a_i, a_h = Wi @ xt + bi, Wh @ h + bh
                r = sigmoid(a_i[:H] + a_h[:H])
                u = sigmoid(a_i[H : 2 * H] + a_h[H : 2 * H])
                n = np.tanh(a_i[2 * H :] + r * a_h[2 * H :])
                h = (1 - u) * n + u * h
            elif cell == "lstm":
                i, f, g, o = (
                    sigmoid(z[:H]),
                    sigmoid(z[H : 2 * H]),
                    np.tanh(z[2 * H : 3 * H]),
                    sigmoid(z[3 * H :]),
                )
                c = f * c + i * g
                h = o * np.tanh(c)
            else:
                h = np.tanh(z)
            out.append(h)
        x = np.array(out)
    logits = x @ weights["head.weight"].T + weights["head.bias"]
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def read_npz(data: bytes) -> tuple[dict, dict]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(arrays.pop("meta").item()), arrays


def write_npz(meta, arrays) -> bytes:
    buf = io.BytesIO()
    payload = dict(arrays)
    if meta is not None:
        payload["meta"] = np.array(json.dumps(meta) if not isinstance(meta, str) else meta)
    np.savez(buf, **payload)
    return buf.getvalue()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_round_trip(tmp_path, cell, kind):
    model = small_model(kind, cell, 2, hidden=5, dtype=np.float32)
    model.meta["note"] = "kept"
    path = tmp_path / "m.npz"
    save_checkpoint(model, path)
    back = load_checkpoint(path)
    assert back.config == model.config
    np.testing.assert_array_equal(back.flat, model.flat)
    assert back.meta["note"] == "kept"
    assert path.exists() and not (tmp_path / "m.npz.npz").exists()
    assert load_checkpoint(path.read_bytes()).config == model.config  # bytes work too


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_file_follows_pytorch_names_shapes_and_semantics(cell, kind):
    model = small_model(kind, cell, 2, hidden=3, seed=11)
    model.p["b0"][:] = np.random.default_rng(0).standard_normal(model.p["b0"].shape)
    meta, weights = read_npz(checkpoint_bytes(model))
    assert meta["format"] == FORMAT and meta["kind"] == kind and meta["cell"] == cell
    assert {k: v.shape for k, v in weights.items()} == state_dict_shapes(model.config)
    assert all(v.dtype == np.float32 for v in weights.values())
    ids = random_batch(model, B=1, T=9)[0][0]
    want = torch_semantics_probs({k: v.astype(np.float64) for k, v in weights.items()}, meta, ids)
    got = model.run(ids[None, :]).probs[:, 0]
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_a_gru_keeps_both_biases_apart():
    """b_hn sits inside the reset product: the file's two GRU biases are kept as they are, and
    moving one between them changes what the model computes."""
    model = small_model("char-lm", "gru", 1, hidden=3, seed=2)
    meta, weights = read_npz(checkpoint_bytes(model))
    rng = np.random.default_rng(5)
    weights["gru.bias_hh_l0"] = rng.standard_normal(9).astype(np.float32)
    loaded = load_checkpoint(write_npz(meta, weights))
    back = to_state_dict(loaded.config, loaded.flat)
    np.testing.assert_array_equal(back["gru.bias_hh_l0"], weights["gru.bias_hh_l0"])
    np.testing.assert_array_equal(back["gru.bias_ih_l0"], weights["gru.bias_ih_l0"])
    ids = np.array([0, 3, 1, 4, 2])
    want = torch_semantics_probs({k: v.astype(np.float64) for k, v in weights.items()}, meta, ids)
    np.testing.assert_allclose(loaded.run(ids[None]).probs[:, 0], want, atol=1e-6)
    moved = {**weights, "gru.bias_ih_l0": weights["gru.bias_ih_l0"].copy()}
    moved["gru.bias_ih_l0"][6:] += moved["gru.bias_hh_l0"][6:]  # b_hn moved into b_in
    moved["gru.bias_hh_l0"] = np.concatenate(
        [weights["gru.bias_hh_l0"][:6], np.zeros(3, np.float32)]
    )
    other = load_checkpoint(write_npz(meta, moved))
    assert np.abs(other.run(ids[None]).probs - loaded.run(ids[None]).probs).max() > 1e-4


def test_a_file_with_both_pytorch_biases_loads_as_their_sum():
    model = small_model("char-lm", "lstm", 1, hidden=3, seed=2)
    meta, weights = read_npz(checkpoint_bytes(model))
    rng = np.random.default_rng(5)
    weights["lstm.bias_hh_l0"] = rng.standard_normal(12).astype(np.float32)
    weights["lstm.bias_ih_l0"] = rng.standard_normal(12).astype(np.float32)
    loaded = load_checkpoint(write_npz(meta, weights))
    ids = np.array([0, 3, 1, 4, 2])
    want = torch_semantics_probs({k: v.astype(np.float64) for k, v in weights.items()}, meta, ids)
    np.testing.assert_allclose(loaded.run(ids[None]).probs[:, 0], want, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradients_convert_like_the_weights(cell):
    """d(loss)/d(file weight) equals loss_and_gradients' entry (a summed bias: both get dL/db)."""
    model = small_model("char-lm", cell, 1, hidden=3, seed=4)
    x, y = random_batch(model, B=2, T=4)
    _, grads = model.loss_and_gradients(x, y)
    meta, weights = read_npz(checkpoint_bytes(model.astype(np.float64)))
    eps = 1e-4
    for key in (
        *(f"{cell}.{w}_l0" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
        "head.weight",
    ):
        w = weights[key].astype(np.float64)
        idx = (1,) * w.ndim
        for sign, store in ((1, "up"), (-1, "down")):
            w2 = w.copy()
            w2[idx] += sign * eps
            weights_mod = {**weights, key: w2}
            m2 = load_checkpoint(write_npz(meta, weights_mod), dtype=np.float64)
            if store == "up":
                up = m2.loss_and_gradients(x, y)[0]
            else:
                down = m2.loss_and_gradients(x, y)[0]
        assert abs((up - down) / (2 * eps) - grads[key][idx]) < 1e-3


# ---------------------------------------------------------------- bad files: a clear line each
def good_parts(kind="char-lm", cell="lstm"):
    return read_npz(checkpoint_bytes(small_model(kind, cell, 1, hidden=3)))


class Evil:
    """Unpickling this would create a marker file: it must never happen."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def bad_files(tmp_path):
    meta, w = good_parts()
    cases = {}
    cases["empty"] = (b"", "empty")
    cases["not a zip"] = (b"hello, this is plain text\n" * 10, "not a checkpoint")
    cases["a png"] = (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a checkpoint")
    good = write_npz(meta, w)
    cases["truncated"] = (good[: len(good) // 2], "truncated or corrupt")
    cases["missing meta"] = (write_npz(None, w), "missing key 'meta'")
    cases["missing weight"] = (
        write_npz(meta, {k: v for k, v in w.items() if k != "head.bias"}),
        "missing weight 'head.bias'",
    )
    cases["wrong shape"] = (
        write_npz(meta, {**w, "lstm.weight_hh_l0": np.zeros((12, 4), np.float32)}),
        "has shape (12, 4)",
    )
    cases["future format"] = (
        write_npz({**meta, "format": "lstm-lab/2"}, w),
        "not readable by this version",
    )
    cases["other format"] = (write_npz({**meta, "format": "keras"}, w), "unknown format")
    cases["no format"] = (
        write_npz({k: v for k, v in meta.items() if k != "format"}, w),
        "unknown format",
    )
    cases["wrong kind"] = (write_npz({**meta, "kind": "gpt"}, w), "unknown kind")
    cases["wrong cell"] = (write_npz({**meta, "cell": "peephole"}, w), "cell must be")
    cases["meta not json"] = (write_npz("{not json", w), "not valid JSON")
    cases["meta a list"] = (write_npz("[1, 2]", w), "JSON object")
    cases["vocab mismatch"] = (
        write_npz({**meta, "vocab": ["a", "b"]}, w),
        "input_size = output_size = len(vocab)",
    )
    cases["negative size"] = (write_npz({**meta, "hidden_size": -3}, w), "hidden_size")
    cases["nan weights"] = (
        write_npz(meta, {**w, "head.bias": np.array([np.nan] * 5, np.float32)}),
        "NaN or infinite",
    )
    cases["integer weights"] = (
        write_npz(meta, {**w, "head.bias": np.zeros(5, np.int64)}),
        "expected floating point",
    )
    cases["huge weights"] = (
        write_npz(meta, {**w, "head.bias": np.full(5, 1e300)}),
        "too large for float32",
    )
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = Evil(str(marker))
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **{**w, "head.bias": evil})
    cases["pickled object array"] = (buf.getvalue(), "refused")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a plain pickle inside the zip, under a .npy name
        zf.writestr("meta.npy", pickle.dumps(Evil(str(marker))))
    cases["raw pickle member"] = (buf.getvalue(), "")
    npy = io.BytesIO()
    np.save(npy, np.zeros(3))
    cases["an .npy"] = (npy.getvalue(), "not a checkpoint")
    return cases, marker


def test_every_bad_file_gets_one_clear_line(tmp_path):
    cases, marker = bad_files(tmp_path)
    for name, (data, expected) in cases.items():
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(data)
        message = str(info.value)
        assert "\n" not in message and len(message) < 200, (name, message)
        assert expected in message, (name, message)
    assert not marker.exists(), "a pickle in a checkpoint was executed"


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.npz")
    with pytest.raises(CheckpointError, match="folder"):
        load_checkpoint(tmp_path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape_as_anything_but_checkpoint_error(data):
    with contextlib.suppress(CheckpointError):
        load_checkpoint(data)


GOOD = checkpoint_bytes(small_model("echo", "lstm", 1, hidden=2, dtype=np.float32))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.integers(0, 255), st.integers(1, len(GOOD)))
def test_damaged_checkpoints_fail_cleanly(pos, byte, cut):
    damaged = bytearray(GOOD)
    damaged[pos] = byte
    for data in (bytes(damaged), GOOD[:cut]):
        try:
            model = load_checkpoint(data)
        except CheckpointError:
            continue
        assert np.isfinite(model.flat).all()  # if it loads, it is a usable model


def test_a_zip_version_python_cannot_read_is_corrupt():
    """Found by the test above: a damaged byte made a header ask for zip version 6.4, and
    Python's zipfile raised NotImplementedError, which reached the page."""
    damaged = bytearray(GOOD)
    at = damaged.index(b"PK\x01\x02")  # the first entry of the central directory
    damaged[at + 6 : at + 8] = (64).to_bytes(2, "little")  # "version needed to extract"
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(bytes(damaged))
    assert err.value.code == "ckpt_corrupt"


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_to_state_dict_is_inverse_of_loading(cell):
    model = small_model("char-lm", cell, 2, hidden=3, dtype=np.float32)
    weights = to_state_dict(model.config, model.flat)
    meta, _ = read_npz(checkpoint_bytes(model))
    back = load_checkpoint(write_npz(meta, weights))
    np.testing.assert_array_equal(back.flat, model.flat)
