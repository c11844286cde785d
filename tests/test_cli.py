"""The command line, run as users run it: `python -m lstm_core ...` in a subprocess."""

import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from lstm_core import __version__, load_checkpoint
from lstm_core.cli import build_parser
from lstm_core.sampling import DEFAULT_TEMPERATURE, OPENING_LENGTH

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


# ---------------------------------------------------------------------------- help, version
def test_every_option_has_help_and_help_shows_the_defaults():
    parser = build_parser()
    (sub,) = (a for a in parser._actions if a.dest == "command")
    commands = sub.choices
    assert set(commands) >= {"train-text", "train-echo", "generate", "inspect", "corpus", "bench"}
    assert all(choice.help for choice in sub._choices_actions)  # each command in the list
    for name, p in [("", parser), *commands.items()]:
        for action in p._actions:
            if action is not sub:
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    out = cli("generate", "--help").stdout
    assert f"(default: {DEFAULT_TEMPERATURE})" in " ".join(out.split())
    assert "--seed-text SEED_TEXT, --prime SEED_TEXT" in out
    train = " ".join(cli("train-text", "--help").stdout.split())
    assert "(default: 128)" in train and "(default: 60)" in train and "--save-every" in train
    assert "(default: None)" not in train and "(default: False)" not in train


def test_version():
    out = cli("--version").stdout
    assert out.strip() == f"python -m lstm_core {__version__}"


def test_unknown_arguments_are_still_a_usage_error():
    proc = cli("inspect", "x.npz", "--nonsense", check=False)
    assert proc.returncode == 2 and "unrecognized arguments: --nonsense" in proc.stderr


# ---------------------------------------------------------------------------- generate's defaults
def small_text_model(tmp_path, *extra):
    text = tmp_path / "novel.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "m.npz"
    tiny = ["--hidden-size", "16", "--steps", "3", "--seq-length", "20", "--batch-size", "4"]
    cli("train-text", "--text", text, "--out", out, *tiny, *extra)
    return out


def test_generate_defaults_to_the_training_texts_start_and_the_apps_temperature(tmp_path):
    ckpt = small_text_model(tmp_path, "--lowercase")
    assert DEFAULT_TEMPERATURE == 0.7  # the text page's slider starts here too (app_pages/text.py)
    out = json.loads(cli("generate", "--checkpoint", ckpt, "--length", 30, "--json").stdout)
    assert (
        out["seed_text"]
        == TEXT[:OPENING_LENGTH].lower()
        == "in a hole in the ground there lived a sm"
    )
    assert out["temperature"] == DEFAULT_TEMPERATURE and len(out["continuation"]) == 30
    # --prime is kept as another name of --seed-text
    given = json.loads(
        cli("generate", "--checkpoint", ckpt, "--prime", "the", "--length", 5, "--json").stdout
    )
    assert given["seed_text"] == "the"


def test_generate_on_a_sample_without_a_recorded_opening_starts_from_a_newline():
    ckpt = ROOT / "samples" / "lighthouse_en_h64.npz"
    assert "opening" not in load_checkpoint(ckpt).meta["training"]
    out = json.loads(
        cli("generate", "--checkpoint", ckpt, "--length", 40, "--seed", 3, "--json").stdout
    )
    assert out["seed_text"] == "\n" and len(out["continuation"]) == 40


# ---------------------------------------------------------------------------- Ctrl-C, --save-every
def start_training(tmp_path, *extra):
    text = tmp_path / "novel.txt"
    text.write_text(TEXT * 4, encoding="utf-8")
    out = tmp_path / "run.npz"
    long = ["--hidden-size", "32", "--steps", "100000", "--seq-length", "20", "--batch-size", "4"]
    args = ["train-text", "--text", str(text), "--out", str(out), *long, *map(str, extra)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstm_core", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


def wait_for(path, proc, seconds=120.0):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the training never wrote its first checkpoint"
        time.sleep(0.05)


def test_ctrl_c_saves_the_model_so_far_and_exits_130(tmp_path):
    proc, out = start_training(tmp_path, "--save-every", 10)
    try:
        wait_for(out, proc)  # it is training: the first periodic save has happened
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted after ") and last.endswith(f"saved in {out}")
    steps = int(last.split()[2])
    model = load_checkpoint(out)
    training = model.meta["training"]
    assert 10 <= steps < 100000 and training["steps"] == steps
    assert training["stopped"] == f"interrupted after {steps} steps"
    assert not (tmp_path / "run.npz.part").exists() and stdout == ""


def start_echo(tmp_path, *extra):
    """A train-echo run that would take hours; its first progress line (after about 5 s of
    training) shows it is inside the training loop."""
    args = ["train-echo", "--total-series-length", "3000", "--num-epochs", "100000", *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstm_core", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()  # blocks until the first progress line (or the end)
    assert first and "epoch" in first, (first, proc.poll())
    return proc, first


@pytest.mark.parametrize("save", [True, False])
def test_ctrl_c_during_train_echo_saves_the_model_so_far_and_exits_130(tmp_path, save):
    out = tmp_path / "echo.npz"
    proc, first = start_echo(tmp_path, *(("--out", out) if save else ()))
    try:
        proc.send_signal(signal.SIGINT)
        stdout, rest = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest and stdout == ""
    last = rest.strip().splitlines()[-1]
    assert last.startswith("interrupted after ")
    windows = int(last.split()[2])
    assert windows >= int(first.split("/")[0])  # at least as far as the progress line said
    if not save:
        assert last.endswith("nothing saved (no --out)") and not out.exists()
        return
    assert last.endswith(f"saved in {out}")
    model = load_checkpoint(out)
    training = model.meta["training"]
    assert training["windows"] == windows
    assert training["stopped"] == f"interrupted after {windows} windows"
    reported = float(last.split("fresh data ")[1].split(")")[0])
    assert training["accuracy"] == pytest.approx(reported, abs=1e-4)
    assert 0.0 <= reported <= 1.0 and not (tmp_path / "echo.npz.part").exists()


def test_save_every_leaves_a_whole_checkpoint_when_the_run_is_killed(tmp_path):
    proc, out = start_training(tmp_path, "--save-every", 7)
    try:
        wait_for(out, proc)
        time.sleep(1.0)  # a few more saves
        proc.kill()  # no chance to clean up: what is on disk is what --save-every wrote
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    model = load_checkpoint(out)
    steps = model.meta["training"]["steps"]
    assert steps > 0 and steps % 7 == 0 and "stopped" not in model.meta["training"]


def test_the_progress_line_shows_the_rate_and_the_time_left():
    import io

    from lstm_core.terminal import Progress

    stream = io.StringIO()
    progress = Progress(1000, stream=stream, every_seconds=0, chars_per_unit=640)
    progress.start -= 10.0  # as if 10 s had passed
    progress.update(250, "step 250/1000")
    line = stream.getvalue()
    # 250 steps in 10 s: 25 steps/s, 16,000 characters/s, 750 steps (30 s) to go
    assert "25.0 steps/s (16,000 chars/s), 30s left" in line, line


def test_train_echo_with_a_gru(tmp_path):
    out = cli(
        "train-echo", "--cell", "gru", "--num-epochs", 1, "--out", tmp_path / "g.npz", "--json"
    ).stdout
    summary = json.loads(out)
    assert summary["accuracy"] >= 0.99, summary
    assert load_checkpoint(tmp_path / "g.npz").config.cell == "gru"


def test_forget_bias_opens_the_belt_of_a_new_model_and_is_recorded(tmp_path):
    """--forget-bias shifts b_f of the fresh model (the first block of b, as cells.py lays it out),
    nothing else, and the checkpoint says it was used; 0 is PyTorch's start."""
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    made = {}
    for bias in (0, 3):
        out = tmp_path / f"m{bias}.npz"
        common = ("--hidden-size", 8, "--steps", 1, "--learning-rate", 1e-9, "--seq-length", 10)
        cli("train-text", "--text", text, "--out", out, "--forget-bias", bias, "--seed", 4, *common)
        made[bias] = load_checkpoint(out)
        assert made[bias].meta["training"]["forget_bias"] == bias
    H = 8
    b0, b3 = (made[k].p["b0"].ravel() for k in (0, 3))
    assert made[0].config.cell_kind.gates[0] == "f"
    assert b3[:H] - b0[:H] == pytest.approx(3.0, abs=1e-5)
    assert b3[H:] == pytest.approx(b0[H:])
