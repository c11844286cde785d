"""The package as a user gets it: build the wheel, install it into a fresh virtual environment
outside the checkout, and from another folder run what the README promises (`lstm-lab`,
`import lstm_core`, `lstm-lab app`).

The virtual environment sees the system's packages (--system-site-packages: the app's
requirements are installed there by .ci/run), so installing the wheel needs no network;
building it fetches setuptools as pip's build isolation does (or takes it from pip's cache).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

sys.path.insert(0, str(ROOT / "scripts"))
from load_check import Student, free_port  # noqa: E402


def run(*args, cwd, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=kwargs.pop("env", None) or outside_env(),
        **kwargs,
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def outside_env() -> dict:
    """The environment of a user's shell: nothing points Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def source_files() -> list[str]:
    """What a clone holds: the tracked files (and new ones not ignored, while one works)."""
    if not (ROOT / ".git").exists():
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


class Installed:
    """A wheel built from a copy of the checkout and installed into a fresh venv."""

    def __init__(self, base: Path) -> None:
        src, dist, self.venv, self.home = (base / n for n in ("src", "dist", "venv", "elsewhere"))
        for name in source_files():  # build from a copy: a build leaves build/ and *.egg-info
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
        run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src, cwd=base)
        (self.wheel,) = dist.glob("lstm_lab-*.whl")
        run(sys.executable, "-m", "venv", "--system-site-packages", self.venv, cwd=base)
        self.bin = self.venv / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / "python"
        # --force-reinstall --no-deps: into the venv even if the system had a copy; the
        # requirements are then checked by `pip check` (test_the_requirements_are_met)
        run(
            self.python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--force-reinstall",
            "--no-deps",
            self.wheel,
            cwd=base,
        )
        self.home.mkdir()

    def run(self, *args, **kwargs) -> subprocess.CompletedProcess:
        return run(*args, cwd=self.home, **kwargs)

    def lstm_lab(self, *args) -> subprocess.CompletedProcess:
        return self.run(self.bin / "lstm-lab", *args)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    return Installed(tmp_path_factory.mktemp("package"))


def test_the_wheel_carries_the_app_and_requirements_txt(installed):
    from packaging.requirements import Requirement

    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        (meta,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(meta).decode()
    for needed in (
        "lstm_lab/app/app.py",
        "lstm_lab/app/.streamlit/config.toml",
        "ui/locales/es.toml",
        "lstm_lab/app/samples/logbook_h128.npz",
    ):
        assert needed in names, needed
    pages = {p.name for p in (ROOT / "app_pages").glob("*.py")}
    assert pages and {f"lstm_lab/app/app_pages/{p}" for p in pages} <= names
    declared = {
        str(Requirement(line.split(":", 1)[1].strip()))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    wanted = {
        str(Requirement(line.split("#")[0].strip()))
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    }
    assert declared == wanted  # the README's pip install -r and pip install . agree
    assert "Requires-Python: >=3.11" in metadata


def test_the_requirements_are_met(installed):
    out = subprocess.run(
        [installed.python, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    ).stdout
    assert not [line for line in out.splitlines() if line.lower().startswith("lstm-lab")], out


def test_lstm_core_imports_from_the_venv_without_the_ui(installed):
    out = installed.run(
        installed.python,
        "-c",
        "import sys, lstm_core; print(lstm_core.__file__); "
        "print(sorted({'streamlit', 'plotly', 'pandas'} & set(sys.modules)))",
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(installed.venv) and out[1] == "[]"


def test_the_command_line_works_from_another_folder(installed):
    from lstm_core import __version__

    assert installed.lstm_lab("--version").stdout.strip() == f"lstm-lab {__version__}"
    summary = json.loads(
        installed.lstm_lab(
            "train-echo",
            "--total-series-length",
            2000,
            "--num-epochs",
            1,
            "--out",
            "echo.npz",
            "--json",
        ).stdout
    )
    assert summary["windows"] > 0 and (installed.home / "echo.npz").is_file()
    sample = installed.run(
        installed.python, "-c", "import lstm_lab; print(lstm_lab.sample('lighthouse_en_h64.npz'))"
    ).stdout.strip()
    assert Path(sample).is_relative_to(installed.venv)
    written = json.loads(
        installed.lstm_lab(
            "generate", "--checkpoint", sample, "--length", 40, "--seed", 1, "--json"
        ).stdout
    )
    assert len(written["continuation"]) == 40


def test_the_app_starts_from_another_folder_with_its_pages_samples_and_config(installed):
    script = installed.run(installed.python, "-c", "import lstm_lab; print(lstm_lab.app_home())")
    home = Path(script.stdout.strip())
    assert home.is_relative_to(installed.venv)
    # Streamlit reads the .streamlit/config.toml beside the script it runs
    shown = installed.run(
        installed.python,
        "-c",
        "from streamlit import config; "
        f"config._main_script_path = {str(home / 'app.py')!r}; "
        "config.get_config_options(force_reparse=True); "
        "print(config.get_option('client.showErrorDetails'), config.get_option('runner.magicEnabled'))",
    ).stdout.split()
    assert shown == ["none", "False"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(installed.home / "app.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            installed.bin / "lstm-lab",
            "app",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=installed.home,
        env=outside_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, health = time.monotonic() + 90, b""
        while time.monotonic() < deadline and health != b"ok":
            assert proc.poll() is None, (installed.home / "app.log").read_text()
            with contextlib.suppress(OSError):
                health = urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read()
            time.sleep(0.2)
        assert health == b"ok", (installed.home / "app.log").read_text()
        with urllib.request.urlopen(f"{base}/text", timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        # the text page runs (it reads the samples): a Streamlit client opens it
        student = Student(0, "text", "", trains=False)
        asyncio.run(open_page(base, student))
        assert student.exceptions == 0 and not student.error, student.error
        assert any("case study" in text for text in student.texts), student.texts[:3]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


async def open_page(base: str, student: Student) -> None:
    import websockets

    url = base.replace("http", "ws", 1) + "/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**26) as ws:
        await ws.send(student.rerun())
        await student.until_finished(ws)
