"""LSTM Lab installed as a package: the `lstm-lab` command, and where the app's own files are.

`lstm-lab` is the engine's command line (lstm_core/cli.py, the same as `python -m lstm_core`)
plus one command of its own, `lstm-lab app`, which starts the Streamlit app from any folder.

The app's files (app.py, app_pages/, samples/ and .streamlit/config.toml) sit at the repository's
root. A wheel carries them, laid out the same, in lstm_lab/app/ (pyproject.toml lists them), so
Streamlit finds the pages beside app.py and its config beside them wherever pip put them;
app_home() says which of the two places holds them.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def app_home() -> Path:
    """The folder holding app.py, app_pages/, samples/ and .streamlit/: lstm_lab/app/ in an installed
    package, else the repository's root (a checkout, or an editable install of one)."""
    packaged = HERE / "app"
    return packaged if (packaged / "app.py").is_file() else HERE.parent


def sample(name: str) -> Path:
    """A file the project ships in samples/ (a corpus or a checkpoint), e.g. "logbook_h128.npz"."""
    return app_home() / "samples" / name


def _add_app_command(sub) -> None:
    from lstm_core.cli import HelpFormatter

    p = sub.add_parser(
        "app",
        help="start the Streamlit app (open the address it prints)",
        description="Start LSTM Lab's app: `streamlit run` on the app.py this package carries. "
        "Every other option goes to `streamlit run` as it is, e.g. --server.port 8601 or "
        "--server.address 0.0.0.0 (to serve a class).",
        formatter_class=HelpFormatter,
    )
    p.set_defaults(func=run_app, passes_on=True)


def run_app(args) -> int:
    """`streamlit run <app_home>/app.py [the options given]`, in this process."""
    from streamlit.web import cli as streamlit_cli

    script = app_home() / "app.py"
    return streamlit_cli.main(["run", str(script), *args.rest], prog_name="lstm-lab app")


def main(argv: list[str] | None = None) -> int:
    """The `lstm-lab` console script."""
    from lstm_core.cli import main as core_main

    return core_main(sys.argv[1:] if argv is None else argv, "lstm-lab", _add_app_command)
