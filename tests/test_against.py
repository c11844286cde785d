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
