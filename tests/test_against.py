"""`bench --against torch` runs LSTM Lab's side alone, and says so, where PyTorch is missing."""

import subprocess
import sys

import pytest
from conftest import ROOT

BLOCK_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named 'torch'")
        return None
sys.meta_path.insert(0, NoTorch())
import importlib.util
assert importlib.util.find_spec("lstm_core") is not None
from lstm_core.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_without_pytorch_only_our_side_runs_and_the_report_says_why():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            BLOCK_TORCH,
            "bench",
            "--against",
            "torch",
            "--rounds",
            "1",
            "--sizes",
            "16:1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "PyTorch is not importable here" in out and "pip install torch" in out
    assert "char-LM step H=16" in out and "echo window" in out and "PyTorch/LSTM Lab" not in out


def test_sizes_are_checked():
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "bench", "--against", "torch", "--sizes", "big"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "hidden:threads" in done.stderr


def test_the_ratio_pairs_each_rounds_two_measurements_and_its_median_decides_the_target(
    monkeypatch,
):
    """The machine slows down for a whole round (both sides twice as slow): paired per round,
    that round's ratio is still the engines' ratio, and crossing rounds would invent 0.5 and 2."""
    from lstm_core import against

    seconds = {  # a round's ours, then its torch, for the one size asked for and the echo
        "ours": iter([1.0, 1e-4, 2.0, 2e-4, 1.0, 1e-4]),
        "torch": iter([1.0, 3e-4, 2.0, 6e-4, 0.8, 3e-4]),
    }
    monkeypatch.setattr(
        against,
        "_measure",
        lambda side, task, H, threads: {"seconds": next(seconds[side]), "libraries": []},
    )
    r = against.run_against(rounds=3, torch=True, configs=((32, 2),))
    charlm, echo = r["rows"]
    assert charlm["ratio"] == pytest.approx((0.8, 1.0)) and charlm["median_ratio"] == 1.0
    assert charlm["met"] is True  # target 1.0 at H=32 on two threads
    assert echo["ratio"] == pytest.approx((3.0, 3.0)) and echo["met"] is True
    text = against.format_against(r)
    assert "PyTorch/LSTM Lab 0.80-1.00 (median 1.00) (target ≥ 1: met)" in text
