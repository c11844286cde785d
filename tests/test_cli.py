"""The command line, run as users run it: `python -m lstm_core ...` in a subprocess."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from lstm_core import load_checkpoint

TEXT = (
    "In a hole in the ground there lived a small model. It read the same line again and again, "
    "and every time it guessed the next letter a little better.\n"
) * 6


def cli(*args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "lstm_core", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("command", ["train-text", "train-echo", "generate", "inspect", "bench"])
def test_every_command_has_help(command):
    out = cli(command, "--help").stdout
    assert "usage:" in out and "--json" in out


def test_train_echo_json_summary(tmp_path):
    out = cli("train-echo", "--num-epochs", 2, "--out", tmp_path / "echo.npz", "--json").stdout
    summary = json.loads(out)
    assert summary["accuracy"] > 0.95 and summary["windows"] == 2 * 666
    assert summary["final_loss"] < 0.2 and summary["ms_per_window"] > 0
    model = load_checkpoint(tmp_path / "echo.npz")
    assert model.config.kind == "echo" and model.meta["echo"]["echo_step"] == 3


def test_train_text_then_generate_then_inspect(tmp_path):
    text = tmp_path / "novel.txt"
    text.write_text(TEXT, encoding="utf-8")
    held_out = tmp_path / "held.txt"
    held_out.write_text("It read the same line ¿again?", encoding="utf-8")
    ckpt = tmp_path / "m.npz"
    summary = json.loads(
        cli(
            "train-text",
            "--text",
            text,
            "--out",
            ckpt,
            "--eval-text",
            held_out,
            "--hidden-size",
            32,
            "--steps",
            60,
            "--seq-length",
            30,
            "--batch-size",
            8,
            "--learning-rate",
            0.01,
            "--json",
        ).stdout
    )
    for key in ("final_loss", "bits_per_character", "seconds", "characters_per_s"):
        assert summary[key] > 0, key
    assert summary["eval_characters_skipped"] == 2  # ¿ and ? are not in the training text
    assert summary["final_loss"] < 3.0  # it learned something (chance is ln 30 ≈ 3.4)
    out = cli(
        "generate", "--checkpoint", ckpt, "--prime", "In a hole", "--length", 50, "--seed", 1
    ).stdout
    assert len(out) == 50
    again = cli(
        "generate", "--checkpoint", ckpt, "--prime", "In a hole", "--length", 50, "--seed", 1
    ).stdout
    assert out == again
    greedy = json.loads(
        cli(
            "generate",
            "--checkpoint",
            ckpt,
            "--prime",
            "In a",
            "--length",
            20,
            "--temperature",
            0,
            "--json",
        ).stdout
    )
    assert len(greedy["continuation"]) == 20 and greedy["temperature"] == 0
    info = json.loads(cli("inspect", ckpt, "--json").stdout)
    assert info["meta"]["kind"] == "char-lm" and info["meta"]["hidden_size"] == 32
    assert info["weights"]["lstm.weight_hh_l0"] == [128, 32]
    assert "lstm.weight_ih_l0" in cli("inspect", ckpt).stdout
    # continue training from the checkpoint
    cli(
        "train-text",
        "--text",
        text,
        "--out",
        tmp_path / "m2.npz",
        "--init",
        ckpt,
        "--steps",
        5,
        "--seq-length",
        30,
        "--batch-size",
        4,
    )
    assert load_checkpoint(tmp_path / "m2.npz").config.hidden_size == 32


@pytest.mark.parametrize(
    "args, expected",
    [
        (["generate", "--checkpoint", "{missing}", "--prime", "a"], "no such file"),
        (["generate", "--checkpoint", "{text}", "--prime", "a"], "not a checkpoint"),
        (["inspect", "{text}"], "not a checkpoint"),
        (["train-text", "--text", "{missing}", "--out", "{out}"], "no such file"),
        (["train-text", "--text", "{tiny}", "--out", "{out}"], "at least 61"),
        (["generate", "--checkpoint", "{echo}", "--prime", "a"], "cannot write text"),
        (["train-echo", "--state-size", "0"], "must be at least 1"),
        (["train-echo", "--learning-rate", "nan"], "positive number"),
        (["train-echo", "--learning-rate", "1e4", "--num-epochs", "1"], "learning rate"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, args, expected):
    (tmp_path / "t.txt").write_text(TEXT)
    (tmp_path / "tiny.txt").write_text("too short")
    cli("train-echo", "--num-epochs", 1, "--total-series-length", 300, "--out", tmp_path / "e.npz")
    paths = {
        "missing": tmp_path / "nope.npz",
        "text": tmp_path / "t.txt",
        "out": tmp_path / "o.npz",
        "tiny": tmp_path / "tiny.txt",
        "echo": tmp_path / "e.npz",
    }
    proc = cli(*[a.format(**paths) for a in args], check=False)
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr
    assert expected in proc.stderr, proc.stderr
    if proc.returncode == 1:
        assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1


def strict_json(text: str):
    """json.loads, refusing NaN and Infinity (which Python accepts but JSON does not have)."""

    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_hold_out_trains_without_the_tail_and_scores_it(tmp_path):
    from lstm_core.text import split_held_out

    text = tmp_path / "novel.txt"
    text.write_text(TEXT * 4, encoding="utf-8")  # 2,000+ characters: a tail of a tenth
    body, tail = split_held_out(TEXT * 4)
    assert len(tail) == len(TEXT * 4) // 10 and body + tail == TEXT * 4
    summary = strict_json(
        cli(
            "train-text",
            "--text",
            text,
            "--out",
            tmp_path / "m.npz",
            "--hold-out",
            "--hidden-size",
            16,
            "--steps",
            5,
            "--seq-length",
            20,
            "--batch-size",
            4,
            "--json",
        ).stdout
    )
    assert summary["eval_text"] == "held-out tail"
    # every next character of the tail, but for the remainder of its cut into 16 rows at most
    assert len(tail) - 16 <= summary["eval_characters_scored"] <= len(tail) - 1
    training = load_checkpoint(tmp_path / "m.npz").meta["training"]
    assert training["characters"] == len(body) and training["held_out"] == len(tail)
    both = cli(
        "train-text",
        "--text",
        text,
        "--out",
        tmp_path / "n.npz",
        "--hold-out",
        "--eval-text",
        text,
        check=False,
    )
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_json_has_no_nan_and_the_eval_text_gets_its_notice(tmp_path):
    text = tmp_path / "novel.txt"
    text.write_text(TEXT, encoding="utf-8")
    foreign = tmp_path / "foreign.txt"
    foreign.write_bytes("ÿÿÿÿ××××".encode("cp1252"))  # not UTF-8, and no character known
    proc = cli(
        "train-text",
        "--text",
        text,
        "--out",
        tmp_path / "m.npz",
        "--eval-text",
        foreign,
        "--hidden-size",
        8,
        "--steps",
        3,
        "--seq-length",
        20,
        "--batch-size",
        2,
        "--json",
    )
    summary = strict_json(proc.stdout)
    assert summary["eval_bits_per_character"] is None and summary["eval_characters_scored"] == 0
    assert f"note: {foreign}: not valid UTF-8: read as Windows-1252" in proc.stderr
    assert "no character of the evaluation text" in proc.stderr


@pytest.mark.parametrize("command", ["train-text", "train-echo"])
def test_diverged_training_saves_the_last_good_weights(tmp_path, command):
    import numpy as np

    text = tmp_path / "novel.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "last_good.npz"
    args = {
        "train-text": [
            "--text",
            text,
            "--hidden-size",
            16,
            "--steps",
            50,
            "--seq-length",
            20,
            "--optimizer",
            "sgd",
            "--learning-rate",
            1000,
            "--clip-norm",
            0,
        ],
        "train-echo": ["--learning-rate", 1e4, "--num-epochs", 1],
    }[command]
    proc = cli(command, *args, "--out", out, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: training stopped at step") and str(out) in last
    model = load_checkpoint(out)
    assert np.isfinite(model.flat).all() and "stopped" in model.meta["training"]


@pytest.mark.slow
def test_bench_reports_every_figure():
    results = strict_json(cli("bench", "--quick", "--json").stdout)
    big, small = results["charlm"]
    assert (big["H"], big["B"], small["H"], small["B"]) == (256, 32, 128, 16)
    for c in results["charlm"]:
        assert (
            c["ms_per_step"] > 0 and c["matmul_peak_gflops"] > 0 and 0 < c["fraction_of_peak"] < 1.5
        )
    assert {e["cell"] for e in results["echo"]} == {"lstm", "gru", "rnn"}
    cells = results["cells"]  # a step with each cell at the same sizes, against the LSTM's
    assert [(row["H"], row["B"]) for row in cells["charlm"]] == [(256, 32), (128, 16)]
    for row in (*cells["charlm"], cells["echo"]):
        assert set(row["ms"]) == {"lstm", "gru", "rnn"} and min(row["ms"].values()) > 0
        assert row["of_lstm"]["lstm"] == 1.0
        assert row["of_lstm"]["gru"] == pytest.approx(row["ms"]["gru"] / row["ms"]["lstm"])
    assert results["sampling"]["chars_per_s"] > 0
    worker = results["worker"]
    assert worker["worker_steps"] > 0 and worker["worker_chars_per_s"] > 0
    assert worker["fraction"] == pytest.approx(
        worker["worker_chars_per_s"] / worker["core_chars_per_s"]
    )
    assert set(results["targets"]) == {
        "fraction_of_matmul_peak_H256",
        "echo_window_ms",
        "sampling_chars_per_s_H256",
        "worker_fraction_of_core_H128",
    }
