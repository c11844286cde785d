"""examples/tour.ipynb runs top to bottom, as a reader runs it from examples/ in a checkout.

The notebook checks its own claims with asserts (the belt equation on a step's record, the text
model's loss well below a uniform guess, PyTorch's outputs matched where PyTorch is installed),
so a cell that no longer holds fails here with the cell's error.
"""

import os

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_the_tour_notebook_runs():
    path = ROOT / "examples" / "tour.ipynb"
    notebook = nbformat.read(path, as_version=4)
    env_without_path = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},  # the kernel starts in examples/
    )
    client.execute(env=env_without_path)  # no help finding lstm_core: it finds it itself
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "accuracy on fresh data" in printed and "Model(char-lm" in printed
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 1  # the belt overview, drawn by ui.figures
