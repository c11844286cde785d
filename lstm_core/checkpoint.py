"""Checkpoints: one .npz in PyTorch's names, shapes and gate order, read without pickle.

Format "lstm-lab/1". Key `meta` is a 0-d string array holding JSON:
    {"format": "lstm-lab/1", "kind": "char-lm" | "echo", "cell": "lstm" | "gru" | "rnn", "input_size",
     "hidden_size", "num_layers", "output_size", "vocab": [...], "lowercase": bool, ...}
Weights (float32), for layer k with input size D_k:
    LSTM  lstm.weight_ih_l{k} (4H, D_k)  lstm.weight_hh_l{k} (4H, H)  lstm.bias_ih_l{k}, lstm.bias_hh_l{k} (4H)
    GRU   gru.weight_ih_l{k} (3H, D_k)   gru.weight_hh_l{k} (3H, H)   gru.bias_ih_l{k},  gru.bias_hh_l{k} (3H)
    RNN   rnn.weight_ih_l{k} (H, D_k)    rnn.weight_hh_l{k} (H, H)    rnn.bias_ih_l{k},  rnn.bias_hh_l{k} (H)
    head  head.weight (V, H)  head.bias (V)
Optional, the model's training history (history.py): `history.steps` (K,) int64, the training
steps kept, and for every weight key above `history.<key>` (K, ...), that weight at each of them.
The conversion between these names and the model's own flat parameters is layout.py's (PyTorch's
gate order, the two biases).

Reading is defensive: every way a file can be wrong becomes a `CheckpointError` with one line
saying what is wrong. Nothing in the file is ever executed (allow_pickle=False, and object arrays
are refused before they are touched).
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from .budget import ModelLimits
from .cells import NAMES
from .errors import LabError
from .files import read_file
from .history import MAX_MOMENTS, WeightHistory
from .layout import from_state_dict, state_dict_shapes, to_state_dict
from .model import KINDS, Model, ModelConfig

FORMAT = "lstm-lab/1"
MAX_UNCOMPRESSED = 512 * 2**20  # refuse zip bombs before inflating anything
_LARGEST = 1e30  # weights beyond this are nonsense (and two of them would overflow float32)
_MAX_META = 2**20  # bytes: a config, a vocabulary and a few facts about training
_NPY_HEADER = 4096  # bytes an .npy header may add to its data
_WEIGHT_KEY = re.compile(
    rf"(?:{'|'.join(NAMES)})\.(?:weight|bias)_(?:ih|hh)_l\d|head\.(?:weight|bias)"
)
_CONFIG_KEYS = ("kind", "cell", "input_size", "hidden_size", "num_layers", "output_size")


class CheckpointError(LabError):
    """A checkpoint that cannot be used; str(error) is one line for the user."""


def checkpoint_meta(model: Model) -> dict:
    """The JSON meta of a model's checkpoint: its config plus its free-form meta."""
    cfg = model.config
    meta = {k: v for k, v in model.meta.items() if k not in ("format", "vocab", "lowercase")}
    meta.update({k: getattr(cfg, k) for k in _CONFIG_KEYS})
    meta.update(format=FORMAT, vocab=list(cfg.vocab), lowercase=cfg.lowercase)
    return meta


def checkpoint_bytes(model: Model) -> bytes:
    """The checkpoint as bytes (for a download button), with the model's history if it has one."""
    buf = io.BytesIO()
    weights = to_state_dict(model.config, model.flat.astype(np.float32))
    if model.history is not None and len(model.history):
        weights |= _history_members(model.config, model.history)
    meta = json.dumps(checkpoint_meta(model), ensure_ascii=False)
    np.savez_compressed(buf, meta=np.array(meta), **weights)
    return buf.getvalue()


def _history_members(config: ModelConfig, history: WeightHistory) -> dict[str, np.ndarray]:
    """history.steps (K,) and, for each weight, history.<weight> (K, ...) in the file's layout."""
    steps, flats = history.stacked()
    per_moment = [to_state_dict(config, flat) for flat in flats]
    out = {"history.steps": steps}
    for key in per_moment[0]:
        out[f"history.{key}"] = np.stack([m[key] for m in per_moment]).astype(np.float32)
    return out


def _read_history(npz, members: dict, config: ModelConfig, dtype) -> WeightHistory | None:
    """The optional history of a checkpoint, checked as strictly as its weights."""
    if "history.steps" not in members:
        return None
    if members["history.steps"] > 8 * MAX_MOMENTS + _NPY_HEADER:
        raise CheckpointError("its history holds too many moments", "ckpt_history")
    steps = _read_member(npz, "history.steps")
    K = len(steps) if steps.ndim == 1 else 0
    if not (1 <= K <= MAX_MOMENTS) or steps.dtype.kind not in "iu" or (np.diff(steps) <= 0).any():
        raise CheckpointError("its history's steps are not increasing step numbers", "ckpt_history")
    stacks = {}
    for key, shape in state_dict_shapes(config).items():
        name = f"history.{key}"
        if name not in members or members[name] > 8 * K * math.prod(shape) + _NPY_HEADER:
            raise CheckpointError(f"its history lacks or oversizes {key!r}", "ckpt_history")
        stacks[key] = _checked_weight(name, _read_member(npz, name), (K, *shape))
    flats = np.stack(
        [
            from_state_dict(config, {key: stack[j] for key, stack in stacks.items()}, np.float32)
            for j in range(K)
        ]
    )
    return WeightHistory.from_arrays(steps, flats)


def save_checkpoint(model: Model, path) -> None:
    """Write the checkpoint to exactly `path` (no '.npz' appended behind the caller's back)."""
    Path(path).write_bytes(checkpoint_bytes(model))


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        return source.read()
    return read_file(source, CheckpointError, "checkpoint file")


def _parse_meta(raw: np.ndarray) -> dict:
    if raw.shape != () or raw.dtype.kind not in "US":
        raise CheckpointError("'meta' must be a single JSON string", "ckpt_meta_type")
    text = raw.item()
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"'meta' is not valid JSON ({exc.msg} at character {exc.pos})",
            "ckpt_meta_json",
            pos=exc.pos,
        ) from None
    except (RecursionError, ValueError):  # nested thousands deep, or a number of 5,000 digits
        raise CheckpointError(
            "'meta' is not valid JSON (nested too deeply or a number too long)", "ckpt_meta_odd"
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError("'meta' must be a JSON object", "ckpt_meta_type")
    fmt = meta.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("lstm-lab/"):
            raise CheckpointError(
                f"format {fmt!r} is not readable by this version (it reads {FORMAT!r})",
                "ckpt_future",
                found=fmt[:40],
                reads=FORMAT,
            )
        raise CheckpointError(
            f"unknown format {fmt!r}: not an LSTM Lab checkpoint",
            "ckpt_format",
            found=str(fmt)[:40],
        )
    if meta.get("kind") not in KINDS:
        raise CheckpointError(
            f"unknown kind {meta.get('kind')!r}: expected one of {KINDS}",
            "ckpt_kind",
            found=str(meta.get("kind"))[:40],
            kinds=", ".join(KINDS),
        )
    return meta


def _config_from_meta(meta: dict) -> ModelConfig:
    missing = [k for k in _CONFIG_KEYS if k not in meta]
    if missing:
        raise CheckpointError(
            f"'meta' lacks {', '.join(missing)}", "ckpt_meta_missing", keys=", ".join(missing)
        )
    vocab = meta.get("vocab", [])
    if not isinstance(vocab, list):
        raise CheckpointError("'vocab' in meta must be a list of characters", "ckpt_vocab")
    try:
        return ModelConfig(
            **{k: meta[k] for k in _CONFIG_KEYS},
            vocab=tuple(vocab),
            lowercase=bool(meta.get("lowercase", False)),
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"inconsistent meta: {exc}", "ckpt_inconsistent", detail=str(exc)[:200]
        ) from None


def _member_key(name: str) -> str:
    """The array name of a zip member, CheckpointError if it is not part of the format."""
    key = name[:-4] if name.endswith(".npy") else None
    weight = key[len("history.") :] if key and key.startswith("history.") else key
    if key is None or not (key in ("meta", "history.steps") or _WEIGHT_KEY.fullmatch(weight)):
        raise CheckpointError(
            f"member {name[:80]!r} is not part of the checkpoint format",
            "ckpt_extra_member",
            key=name[:80],
        )
    return key


def _check_limits(config: ModelConfig, limits: ModelLimits | None) -> None:
    if limits is None:
        return
    for what, have, most in (
        ("units", config.hidden_size, limits.hidden),
        ("layers", config.num_layers, limits.layers),
        ("vocabulary", len(config.vocab), limits.vocab),
    ):
        if have > most:
            raise CheckpointError(
                f"the model has {have} {what.replace('vocabulary', 'characters')}; "
                f"this page takes at most {most}",
                f"ckpt_too_many_{what}",
                have=have,
                most=most,
            )


def load_checkpoint(source, dtype=np.float32, limits: ModelLimits | None = None) -> Model:
    """Read a checkpoint from a path, bytes or a binary file object; CheckpointError if unusable.

    Nothing is inflated before it is known to belong: members outside the format are refused by
    name, the meta is read first (and is small), and each weight's unpacked size is checked
    against the shape the meta promises before it is read. limits: the largest model the caller
    takes (`budget.UPLOAD_LIMITS`), checked from the meta alone.
    """
    data = _read_bytes(source)
    if not data:
        raise CheckpointError("the file is empty", "ckpt_empty")
    if not data.startswith(b"PK"):
        raise CheckpointError(
            "not a checkpoint: an .npz file is a zip archive, this is not one", "ckpt_not_zip"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            sizes = {info.filename: info.file_size for info in zf.infolist()}
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        # (NotImplementedError: a damaged header can claim a zip version Python cannot read)
        raise CheckpointError("the zip archive is truncated or corrupt", "ckpt_corrupt") from None
    total = sum(sizes.values())
    if total > MAX_UNCOMPRESSED:
        mb = round(total / 2**20)
        raise CheckpointError(
            f"the archive would unpack to {mb} MB, over the limit", "ckpt_bomb", mb=mb
        )
    members = {_member_key(name): size for name, size in sizes.items()}
    if "meta" not in members:
        raise CheckpointError("missing key 'meta': not an LSTM Lab checkpoint", "ckpt_no_meta")
    if members["meta"] > _MAX_META:
        raise CheckpointError(
            "'meta' is too large to be a checkpoint's description", "ckpt_meta_big"
        )
    key = "meta"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = _parse_meta(_read_member(npz, "meta"))
            config = _config_from_meta(meta)
            _check_limits(config, limits)
            weights = {}
            for key, shape in state_dict_shapes(config).items():
                if key not in members:
                    raise CheckpointError(
                        f"missing weight {key!r} for a {config.num_layers}-layer {config.cell}",
                        "ckpt_missing_weight",
                        key=key,
                    )
                if members[key] > 8 * math.prod(shape) + _NPY_HEADER:
                    raise CheckpointError(
                        f"{key!r} unpacks larger than its shape {shape} from meta allows",
                        "ckpt_member_size",
                        key=key,
                        expected=str(shape),
                    )
                weights[key] = _checked_weight(key, _read_member(npz, key), shape)
            history = _read_history(npz, members, config, dtype)
    except ValueError as exc:
        if isinstance(exc, CheckpointError):
            raise
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise CheckpointError(
                f"refused: the file holds Python objects (pickle) in {key!r}",
                "ckpt_pickle",
                key=key[:80],
            ) from None
        raise CheckpointError(
            f"unreadable array {key!r}: {str(exc).splitlines()[0]}", "ckpt_array", key=key[:80]
        ) from None
    except Exception as exc:  # zlib.error, EOFError, BadZipFile, OSError: all mean "corrupt"
        raise CheckpointError(
            f"the archive is truncated or corrupt ({type(exc).__name__})", "ckpt_corrupt"
        ) from None
    extra = {k: v for k, v in meta.items() if k not in _CONFIG_KEYS}
    model = Model(config, from_state_dict(config, weights, dtype), extra)
    model.history = history
    return model


def _read_member(npz, key: str) -> np.ndarray:
    arr = npz[key]
    if not isinstance(arr, np.ndarray):  # NpzFile hands back raw bytes for a non-.npy member
        raise CheckpointError(f"member {key!r} is not a NumPy array", "ckpt_member", key=key[:80])
    return arr


def _checked_weight(key: str, arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if arr.dtype.kind != "f":
        raise CheckpointError(
            f"{key!r} has dtype {arr.dtype}, expected floating point",
            "ckpt_dtype",
            key=key,
            dtype=str(arr.dtype),
        )
    if arr.shape != shape:
        raise CheckpointError(
            f"{key!r} has shape {arr.shape}, expected {shape} from meta",
            "ckpt_shape",
            key=key,
            shape=str(arr.shape),
            expected=str(shape),
        )
    if not np.isfinite(arr).all():
        raise CheckpointError(f"{key!r} contains NaN or infinite values", "ckpt_nan", key=key)
    if arr.size and np.abs(arr).max() > _LARGEST:
        raise CheckpointError(
            f"{key!r} holds values too large for float32 (over {_LARGEST:.1e})",
            "ckpt_huge",
            key=key,
        )
    return arr.astype(np.float64)


def describe(model: Model) -> dict:
    """A checkpoint's meta and its weights' shapes (for `inspect`)."""
    shapes = {k: list(v) for k, v in state_dict_shapes(model.config).items()}
    return {
        "meta": checkpoint_meta(model),
        "weights": shapes,
        "parameters": model.config.num_parameters(),
    }
