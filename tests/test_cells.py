"""One interface for every cell: the registry, what each kind provides, and nothing outside the
cells asking which cell it is."""

import ast

import numpy as np
import pytest
from conftest import ROOT, random_batch, small_model

from lstm_core import cells
from lstm_core.cells import CELLS, NAMES, CellKind, cell_kind, torch_blocks

CELL_MODULES = {"lstm_core/cell.py", "lstm_core/gru.py", "lstm_core/rnn.py", "lstm_core/cells.py"}
# Files that name a cell by what they are (a claim about a cell, a colour for each).
NOT_YET_CONVERTED = {
    "lstm_core/demos.py": "the presets' claims name the cells they are about",
    "lstm_core/against.py": "bench --against compares with torch.nn.LSTM by design",
    "ui/figures/__init__.py": "the palette: a colour per cell kind",
}


def sources():
    for folder in ("lstm_core", "ui", "app_pages"):
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield ROOT / "app.py"


def test_nothing_outside_the_cells_names_a_cell():
    """No string literal equal to a cell's name (a `cell == "lstm"`, a `{"rnn": ...}`) outside
    the cell modules and the registry, but in the files listed as not yet converted."""
    found = {}
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel in CELL_MODULES or rel in NOT_YET_CONVERTED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lines = [
            n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in NAMES
        ]
        if lines:
            found[rel] = lines
    assert not found, f"ask lstm_core.cells instead of naming a cell: {found}"


def imports_of(path) -> set[str]:
    """The lstm_core modules a module imports, anywhere in it (imports only for type checking
    left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 1 and node.module:
            out.add(node.module.split(".")[0])
        elif node.level == 1:
            out |= {a.name for a in node.names}
    return out


def test_the_engine_has_no_import_circle():
    """No module of lstm_core reaches itself through imports (the model does not import the
    checkpoint that writes it; the cells do not import the layers that run them)."""
    graph = {p.stem: imports_of(p) for p in (ROOT / "lstm_core").glob("*.py")}

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted(m for m in graph if m in reach(m) and m != "__init__")
    assert not circles, circles
    assert "checkpoint" not in reach("model") and "sequence" not in reach("cells")


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_has_the_whole_interface(name):
    kind = cell_kind(name)
    assert kind.name == name and kind is CELLS[name]
    members = [m for m in CellKind.__dict__ if not m.startswith("_")]
    members += list(CellKind.__annotations__)
    assert all(hasattr(kind, m) for m in members), [m for m in members if not hasattr(kind, m)]
    assert sorted(kind.torch_gates) == sorted(kind.gates) and len(kind.gates) in (0, kind.width)
    assert set(kind.gate_names) == set(kind.gates)
    assert kind.state in (("h",), ("h", "c")) and kind.bias_blocks in (1, 2)
    torch_nn = {"LSTM", "GRU", "RNN"}
    assert kind.torch_class in torch_nn


def test_the_names_and_their_pytorch_order():
    assert NAMES == ("lstm", "gru", "rnn") and cells.DEFAULT_CELL in NAMES
    assert torch_blocks(cell_kind("lstm")) == [1, 0, 2, 3]  # i, f, g, o <- f, i, g, o
    assert torch_blocks(cell_kind("gru")) == [0, 1, 2] and torch_blocks(cell_kind("rnn")) == [0]
    assert cells.by_class("GRU") is cell_kind("gru") and cells.by_class("Transformer") is None
    with pytest.raises(ValueError, match="unknown cell 'peephole'"):
        cell_kind("peephole")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_every_kind_runs_trains_and_carries_its_state(name, kind):
    """One model per kind: the layout its cell declares, a finite loss and gradient, a state
    with a c exactly when the cell has one, and the same numbers in float32 as in float64."""
    model = small_model(kind, name, 2, hidden=4, seed=1)
    cell = cell_kind(name)
    H = 4
    for k in range(2):
        assert model.p[f"W{k}"].shape[1] == cell.width * H
        assert model.p[f"b{k}"].shape == (cell.bias_blocks * cell.width * H,)
    x, y = random_batch(model, B=2, T=5)
    trace = model.run(x)
    for layer in trace.layers:
        assert (layer.c is not None) == ("c" in cell.state)
        assert layer.memory is (layer.c if layer.c is not None else layer.h)
    loss, grads = model.loss_and_gradients(x, y)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())
    single = model.astype(np.float32).run(x).probs
    np.testing.assert_allclose(single, trace.probs, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_a_step_back_takes_many_rows_of_gradient_at_once(name, rng):
    """step_backward with n rows of dL/dh_t (the record's one row broadcast over them) gives, row
    by row, what BPTT through the layer gives for a loss on h_t alone: what bptt.py needs to
    send every loss term's gradient back side by side."""
    from lstm_core.sequence import layer_backward

    model = small_model("char-lm", name, 1, hidden=4, seed=3)
    x, _ = random_batch(model, B=1, T=3)
    layer = model.run(x).layers[0]
    kind, W_h = cell_kind(name), model.p["W0"][:4]
    g = rng.standard_normal((5, 4))  # five loss terms' dL/dh_3
    zero = np.zeros((5, 4)) if "c" in kind.state else None
    dh_prev, dc_prev, dc = kind.step_backward(layer.step(2), g, zero, np.ascontiguousarray(W_h.T))
    assert (dc_prev is None) == (dc is None) == ("c" not in kind.state)
    for row in range(5):
        dh_out = np.zeros((3, 1, 4))
        dh_out[2, 0] = g[row]
        full = layer_backward(layer, dh_out, W_h, keep_state_grads=True)
        np.testing.assert_allclose(dh_prev[row], full.dh[2, 0], atol=1e-14)
        if dc is not None:
            np.testing.assert_allclose(dc[row], full.dc[3, 0], atol=1e-14)  # dL/dc_3 in full


@pytest.mark.parametrize("name", NAMES)
def test_what_carries_the_memory_is_the_cells_own_word(name):
    """The belt page's view of a layer (analysis.belt_series) is the cell's own `belt_rows`,
    the memory first, each (T, H); a cell with a valve carries its memory exactly as its belt
    says: after = kept fraction · before + written (LSTM c, GRU h), and a cell with no valve
    says so instead of drawing one."""
    from lstm_core.analysis import belt_flow, belt_series

    kind = cell_kind(name)
    model = small_model("char-lm", name, 1, hidden=5, seed=2)
    x, _ = random_batch(model, B=2, T=7)
    layer = model.run(x).layers[0]
    assert kind.memory in kind.state and layer.memory is getattr(layer, kind.memory)
    series = belt_series(layer, row=1)
    assert tuple(series) == kind.belt_rows and kind.belt_rows[0] == kind.memory
    assert all(v.shape == (7, 5) for v in series.values())
    np.testing.assert_array_equal(series[kind.memory], layer.memory[1:, 1])
    if kind.keeps is None:
        with pytest.raises(ValueError, match="no belt"):
            kind.belt(layer)
        assert kind.belt_rows == (kind.memory,)
        return
    before, keep, written, after = kind.belt(layer)
    np.testing.assert_array_equal(keep, layer.gate(kind.keeps))
    np.testing.assert_allclose(keep * before + written, after, atol=1e-12)
    np.testing.assert_array_equal(before[1:], after[:-1])  # one vector, carried along
    if "write" in series:
        np.testing.assert_allclose(series["write"], written[:, 1])
    flow = belt_flow(layer, 1, 3)
    np.testing.assert_allclose(flow.c_prev - flow.removed + flow.added, flow.c, atol=1e-12)
