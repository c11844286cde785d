"""Echo task: the notebook's experiment, trained live. Watch memory form, compare an RNN with an
LSTM (and a GRU) on the same data, see truncation fail, and sweep the memory span."""

import time

import streamlit as st

from lstm_core import EchoConfig, checkpoint_bytes
from lstm_core.cells import DEFAULT_CELL, NAMES
from lstm_core.demos import COMPARISONS, ECHO_PRESETS
from lstm_core.echo import bit_trace, bits_held, memory_curve
from lstm_core.live import EchoSweep, echo_run
from lstm_core.rewind_echo import view_of
from ui import frame, load, params, rewind, rewind_echo
from ui.figures import echo as figs
from ui.i18n import explain, labeler, num, number_style, t
from ui.page_state import ECHO
from ui.params import Param

D = EchoConfig()  # the notebook's defaults
P = params.register(
    "echo",
    (
        Param("cell", DEFAULT_CELL, "choice", options=NAMES),
        Param("compare", False, "bool"),
        Param("versus", "pair", "choice", options=tuple(COMPARISONS)),  # which cells compare
        Param("echo_step", D.echo_step, "int", low=0, high=50),
        Param("truncated_backprop_length", D.truncated_backprop_length, "int", low=1, high=200),
        Param("state_size", D.state_size, "int", low=1, high=64),
        Param("batch_size", D.batch_size, "int", low=1, high=64),
        Param("total_series_length", D.total_series_length, "int", low=100, high=500_000),
        Param("num_epochs", D.num_epochs, "int", low=1, high=1000),
        Param("optimizer", D.optimizer, "choice", options=("adagrad", "adam", "sgd")),
        Param("learning_rate", D.learning_rate, "float", low=1e-6, high=1e6),
        Param("lr_decay", D.lr_decay, "float", low=0.5, high=1.0),
        Param("series", 0, "int", low=0, high=63),
        Param("sweep_epochs", 10, "int", low=1, high=50),  # the most epochs for each point
        rewind.step_param("echo_at_step"),
    ),
)
DEFAULTS = {p.name: p.default for p in P.values()}
PRESETS = {name: {**DEFAULTS, **preset.values} for name, preset in ECHO_PRESETS.items()}
# seconds: training per redraw, between redraws, window views. Most of the clock goes into
# training: a slice lasts SLICE, or twice as long as the page took since the last one (drawing,
# waiting for its turn) up to LONGEST, so training keeps about 2/3 of the clock even on a busy
# server (lstm_core.demos.PAGE_SHARE is what the presets' time promises count on). The curves
# still move two or three times a second on a quiet one.
SLICE, LONGEST, TICK, WINDOW_TICK = 0.25, 1.0, 0.3, 1.5
SWEEP_SLICE, SWEEP_TICK = 0.25, 0.3  # the sweep draws one light chart: longer slices, fewer redraws
HELD = 0.9  # a bit read back from the state this often counts as held (a coin: 0.5)
FIELD = 200  # px: settings flow in rows of fixed-width fields, four a row wide, two narrow
RUN, SWEEP = ECHO.run, ECHO.sweep  # each with the settings it was made for
PACE = ECHO.pace  # slower redraws while many students train (ui/load.py)
params.setup("echo")
frame.header("echo")


def apply_preset(name: str, **changes) -> None:
    for key, value in {**PRESETS[name], **changes}.items():
        if key not in ("series", "sweep_epochs", "echo_at_step"):
            st.session_state[key] = value
    RUN.drop()
    SWEEP.drop()


def preset_facts(name: str) -> dict:
    """What a preset's sentences say, all from its record (lstm_core/demos.py), which
    tests/test_demos.py checks: its settings, and the bounds of its claims."""
    preset, v = ECHO_PRESETS[name], PRESETS[name]
    facts = {
        "k": v["echo_step"],
        "w": v["truncated_backprop_length"],
        "h": v["state_size"],
        "epochs": v["num_epochs"],
        "seconds": preset.seconds,
        "lr": v["learning_rate"],
        "decay": v["lr_decay"],
    }
    for claim in preset.claims:
        which = "cured" if claim.changes else claim.cell
        facts[f"{which}_least"], facts[f"{which}_most"] = claim.at_least, claim.at_most
        facts[f"{which}_epochs"] = preset.claim_config(claim).num_epochs
        if claim.changes:  # the cure: a longer window
            facts["cure_w"] = dict(claim.changes)["truncated_backprop_length"]
    return facts


# ------------------------------------------------------------------------------ presets
st.markdown(t("echo.presets_intro"))
for column, name in zip(st.columns(len(PRESETS)), PRESETS, strict=True):
    with column:
        st.button(
            t(f"echo.preset_{name}"),
            key=f"echo_preset_{name}",
            on_click=apply_preset,
            args=(name,),
            width="stretch",
            icon=":material/tune:",
        )
        st.caption(t(f"echo.preset_{name}_note", **preset_facts(name)))

# ------------------------------------------------------------------------------ settings
with st.expander(t("echo.settings"), expanded=True):
    top = st.container(horizontal=True, vertical_alignment="center", gap="large")
    compare = params.toggle(
        P["compare"], t("echo.compare"), container=top, help=t("echo.compare_help")
    )
    versus = params.radio(
        P["versus"],
        t("echo.versus"),
        labeler("echo.versus_"),
        container=top,
        disabled=not compare,
        horizontal=True,
        label_visibility="collapsed",
    )
    cell = params.radio(
        P["cell"],
        t("echo.cell"),
        labeler("echo.cell_"),
        container=top,
        disabled=compare,
        horizontal=True,
        label_visibility="collapsed",
    )
    grid = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    echo_step = params.number(
        P["echo_step"],
        t("echo.label_echo_step"),
        step=1,
        container=grid,
        width=FIELD,
        help=t("echo.echo_step_help"),
    )
    window = params.number(
        P["truncated_backprop_length"],
        t("echo.label_truncated_backprop_length"),
        step=1,
        container=grid,
        width=FIELD,
        help=t("echo.window_help"),
    )
    state_size = params.number(
        P["state_size"],
        t("echo.label_state_size"),
        step=1,
        container=grid,
        width=FIELD,
        help=t("echo.state_help"),
    )
    batch_size = params.number(
        P["batch_size"],
        t("echo.label_batch_size"),
        step=1,
        container=grid,
        width=FIELD,
        help=t("echo.batch_help"),
    )
    length = params.number(
        P["total_series_length"],
        t("echo.label_total_series_length"),
        step=1000,
        container=grid,
        width=FIELD,
        help=t("echo.length_help"),
    )
    epochs = params.number(
        P["num_epochs"], t("echo.label_num_epochs"), step=1, container=grid, width=FIELD
    )
    optimizer = params.select(
        P["optimizer"],
        t("echo.label_optimizer"),
        labeler("echo.optimizer_"),
        container=grid,
        width=FIELD,
    )
    lr = params.number(
        P["learning_rate"],
        t("echo.label_learning_rate"),
        step=0.05,
        format="%g",
        container=grid,
        width=FIELD,
        help=t("echo.lr_help"),
    )
    lr_decay = params.number(
        P["lr_decay"],
        t("echo.label_lr_decay"),
        step=0.01,
        format="%g",
        container=grid,
        width=FIELD,
        help=t("echo.lr_decay_help"),
    )

try:
    config = EchoConfig(
        total_series_length=int(length),
        truncated_backprop_length=int(window),
        state_size=int(state_size),
        echo_step=int(echo_step),
        batch_size=int(batch_size),
        num_epochs=int(epochs),
        optimizer=optimizer,
        learning_rate=float(lr),
        lr_decay=float(lr_decay),
        cell=cell,
        seed=frame.seed(),
    )
except ValueError as exc:
    st.error(t("echo.bad_settings", reason=explain(exc)), icon=":material/error:")
    frame.stop()
cells = COMPARISONS[versus] if compare else (cell,)
if config.echo_step >= config.truncated_backprop_length:
    st.warning(
        t("echo.truncation_warning", k=config.echo_step, w=config.truncated_backprop_length),
        icon=":material/content_cut:",
    )


# ------------------------------------------------------------------------------ the run
def settings_changed(old) -> None:
    if any(tr.steps_done for tr in old.trainers.values()):
        st.info(t("echo.settings_changed"), icon=":material/restart_alt:")


run = RUN.rebuilt((config, cells), lambda: echo_run(config, cells), replaced=settings_changed)


def start(run) -> None:
    run.running = not run.finished
    del ECHO.slice_end  # the first slice has no drawing to make up


def pause(run) -> None:
    run.running = False


def one_window(run) -> None:
    run.running = False
    run.step()


def reset() -> None:
    RUN.drop()


controls = st.container(horizontal=True, gap="small")
controls.button(
    t("echo.train"),
    key="echo_train",
    on_click=start,
    args=(run,),
    type="primary",
    icon=":material/play_arrow:",
    disabled=run.running or run.finished,
    shortcut=None if run.running else "Space",  # Space trains, and pauses
)
controls.button(
    t("echo.pause"),
    key="echo_pause",
    on_click=pause,
    args=(run,),
    icon=":material/pause:",
    disabled=not run.running,
    shortcut="Space" if run.running else None,
)
controls.button(
    t("echo.step_once"),
    key="echo_step_once",
    on_click=one_window,
    args=(run,),
    icon=":material/skip_next:",
    disabled=run.finished,
)
controls.button(t("echo.reset"), key="echo_reset", on_click=reset, icon=":material/restart_alt:")
if not run.running and any(tr.steps_done for tr in run.trainers.values()):
    # a row of their own: beside the controls two of them no longer fit a narrow window
    downloads = st.container(horizontal=True, gap="small", vertical_alignment="center")
    for name, tr in run.trainers.items():
        downloads.download_button(
            t("echo.download", cell=t(f"echo.cell_{name}")),
            data=checkpoint_bytes(tr.model),
            file_name=f"echo_{name}_h{config.state_size}_step{config.echo_step}.npz",
            mime="application/octet-stream",
            key=f"echo_download_{name}",
            icon=":material/download:",
            help=t("echo.download_help", cell=t(f"echo.cell_{name}")),
        )


@st.fragment(run_every=TICK * PACE if run.running else None)
def live(run, config: EchoConfig) -> None:
    """Train a slice (while running), then draw everything that changes as the model learns."""
    was_running = run.running
    if run.running:
        load.tick(frame.session_id(), "echo")
        since = time.perf_counter() - (ECHO.slice_end or time.perf_counter())
        with load.training_slot(frame.session_id()) as share:  # one slice at a time, server-wide
            run.advance(min(LONGEST, max(SLICE, 2 * since)) * share)
        ECHO.slice_end = time.perf_counter()
    if (was_running and not run.running) or (run.running and ECHO.repaced()):
        st.rerun()  # training ended (redraw the buttons, stop the timer) or the server got busier
    for name, tr in run.trainers.items():
        if tr.status == "diverged":
            st.error(
                t("echo.stopped_for", cell=t(f"echo.cell_{name}"), reason=explain(tr.problem)),
                icon=":material/warning:",
            )
    names = list(run.trainers)
    status = []
    for name, tr in run.trainers.items():
        facts = {
            "cell": t(f"echo.cell_{name}"),
            "epochs": tr.config.num_epochs,
            "windows": tr.config.windows_per_epoch,
            "seconds": tr.elapsed,
            "speed": tr.steps_done / tr.elapsed if tr.elapsed else 0,
        }
        if tr.status == "done":  # all epochs trained: say so (its epoch counter is one past)
            status.append(t("echo.progress_done", **facts))
        else:
            status.append(t("echo.progress", epoch=tr.epoch + 1, window=tr.window, **facts))
    st.markdown("  \n".join(status))
    first = run.trainers[names[0]]
    st.progress(
        min(1.0, first.steps_done / (first.config.num_epochs * first.config.windows_per_epoch))
    )
    if run.wall_seconds >= 0.5:  # how the clock was spent: training slices and drawing take turns
        busy = sum(tr.elapsed for tr in run.trainers.values())
        st.caption(
            t(
                "echo.clock",
                wall=run.wall_seconds,
                training=busy,
                share=min(1.0, busy / run.wall_seconds),
            )
        )
    labels = {n: t(f"echo.cell_{n}") for n in names} | {
        "loss": t("echo.loss"),
        "window": t("echo.window"),
        "accuracy": t("echo.accuracy"),
        **number_style(),
    }
    labels["stopped"] = t("echo.stopped_mark")
    for col, name in zip(st.columns(len(names)), names, strict=True):
        _, acc = run.accuracy[name].arrays()
        col.metric(
            t("echo.accuracy_of", cell=t(f"echo.cell_{name}")),
            num(acc[-1], ".1%") if len(acc) else "—",
        )
    losses = {n: run.loss_curve(n) for n in names if len(run.losses[n])}
    accuracies = {n: run.accuracy[n].arrays() for n in names if len(run.accuracy[n])}
    frame.chart(
        figs.training_curves(losses, accuracies, labels, run.stops),
        key="echo_curves",
    )
    if not any(tr.steps_done for tr in run.trainers.values()):
        st.info(t("echo.press_train"), icon=":material/play_arrow:")
    elif any(tr.epoch for tr in run.trainers.values()):  # a second epoch began: its spike shows
        st.caption(t("echo.loss_spikes", k=config.echo_step))


def window_labels(run) -> dict[str, str]:
    """The words of the notebook's bars and the window's state (the live view's and the
    training-time view's)."""
    return {n: t(f"echo.cell_{n}") for n in run.trainers} | {
        "input": t("echo.input"),
        "target": t("echo.target"),
        "prediction": t("echo.prediction"),
        "series": t("echo.series"),
        "x": t("echo.bits_axis"),
        "units": t("cell.units_axis"),
        "hover": t("echo.state_hover"),
        "step": t("echo.step_n"),
    }


@st.fragment(run_every=WINDOW_TICK * PACE if run.running else None)
def last_window(run, config: EchoConfig) -> None:
    """The notebook's bars and the units' state for the window trained last (redrawn less often:
    the browser needs longer to draw them than the curves)."""
    if not any(tr.steps_done for tr in run.trainers.values()):
        return
    labels = window_labels(run)
    st.markdown(t("echo.bars_intro"))
    series = min(int(st.session_state.get("series", 0)), config.batch_size - 1)
    windows, states = {}, {}
    for name, tr in run.trainers.items():
        shown = tr.last_window()  # exactly as trained: the state carried in, the weights of then
        if shown is None:  # this one has not trained a window yet
            continue
        view = view_of(*shown)
        windows[name] = (view.x, view.y, view.prediction)
        states[name] = (view.state[:, series], view.x[:, series], view.y[:, series], view.which)
    frame.chart(figs.echo_bars(windows, labels), key="echo_bars")
    frame.chart(figs.window_states(states, labels), key="echo_states")
    st.caption(t("echo.state_caption"))
    travel(run, config, labels)


def travel(run, config: EchoConfig, labels: dict[str, str]) -> None:
    """Watch a bit travel: one input bit flipped, followed through each model as it is now;
    then, measured on fresh bits, how many of the latest bits each model's state holds."""
    k = config.echo_step
    trained = {n: tr for n, tr in run.trainers.items() if tr.steps_done}
    st.subheader(t("echo.travel_title"))
    st.markdown(t("echo.travel_intro", k=k))
    traces = {n: bit_trace(tr.model, k, seed=frame.seed()) for n, tr in trained.items()}
    labels = labels | {
        "answer": t("echo.travel_answer"),
        "units": t("echo.travel_units"),
        "steps": t("echo.travel_steps"),
        "in": t("echo.travel_in"),
        "out": t("echo.travel_out", k=k),
        "hover": t("echo.travel_hover"),
    }
    frame.chart(figs.bit_travel(traces, k, labels), key="echo_travel")
    st.caption(t("echo.travel_guide", k=k))
    if run.running:  # the readout below costs a few slices: it waits for a pause
        st.caption(t("echo.holds_paused"))
        return
    lines = []
    for name, tr in trained.items():
        curve = memory_curve(tr.model, tr.config, k, seed=frame.seed() + 777)
        facts = {"cell": t(f"echo.cell_{name}"), "k": k, "read": curve[k], "n": bits_held(curve)}
        if curve[k] >= HELD:  # the bit the answer needs comes back from the state
            turned = float(traces[name].answer_change[traces[name].flipped + k])
            lines.append(t("echo.holds", turned=turned, **facts))
        else:
            lines.append(t("echo.holds_not" if facts["n"] else "echo.holds_none", **facts))
    st.markdown("  \n".join(lines))


live(run, config)
last_window(run, config)
series = params.number(
    P["series"], t("echo.series_pick", n=config.batch_size - 1), high=config.batch_size - 1, step=1
)
rewind_echo.section(run, P["echo_at_step"], int(series), window_labels(run))

# ------------------------------------------------------------------------------ truncation
TRUNCATION = ECHO_PRESETS["truncation"]
CURE = TRUNCATION.claim(*TRUNCATION.cells, cured=True)


def at_truncation_preset(config: EchoConfig, cells: tuple, changes: tuple = ()) -> bool:
    """Whether the page trains the truncation preset (with `changes`: its cure) right now."""
    wanted = TRUNCATION.config(*TRUNCATION.cells, config.seed, changes)
    return cells == TRUNCATION.cells and config == wanted


def truncation_section(config: EchoConfig, cells: tuple) -> None:
    """A window shorter than the dependency, and (at the preset) its cure, one press away."""
    cut = config.echo_step >= config.truncated_backprop_length
    cured = at_truncation_preset(config, cells, CURE.changes)
    with st.expander(t("echo.truncation_title"), expanded=cut or cured):
        st.markdown(
            t("echo.truncation_text", k=config.echo_step, w=config.truncated_backprop_length)
        )
        facts = preset_facts("truncation")
        if at_truncation_preset(config, cells):
            st.markdown(t("echo.cure_offer", **facts))
            st.button(
                t("echo.cure_button", **facts),
                key="echo_cure",
                on_click=apply_preset,
                args=("truncation",),
                kwargs=dict(CURE.changes),
                icon=":material/healing:",
            )
        elif cured:
            st.success(t("echo.cure_applied", **facts), icon=":material/healing:")


# ------------------------------------------------------------------------------ memory span sweep
def start_sweep(key: tuple, config: EchoConfig, epochs: int) -> None:
    SWEEP.put(key, EchoSweep(config, max_epochs=epochs)).running = True


def stop_sweep() -> None:
    if SWEEP.value() is not None:
        SWEEP.value().running = False


def sweep_section(config: EchoConfig) -> None:
    """How far back each cell learns to echo at these settings: its controls, then its view."""
    st.subheader(t("echo.sweep_title"))
    st.markdown(t("echo.sweep_intro", w=config.truncated_backprop_length, h=config.state_size))
    sweep = SWEEP.value()
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    sweep_epochs = params.number(
        P["sweep_epochs"],
        t("echo.sweep_epochs"),
        step=1,
        container=row,
        width=FIELD,
        help=t("echo.sweep_epochs_help"),
    )
    sweep_key = (config, int(sweep_epochs))
    sweeping = sweep is not None and sweep.running
    row.button(
        t("echo.sweep_start"),
        key="echo_sweep",
        on_click=start_sweep,
        args=(sweep_key, config, int(sweep_epochs)),
        icon=":material/monitoring:",
        disabled=sweeping,
    )
    row.button(
        t("echo.sweep_stop"),
        key="echo_sweep_stop",
        on_click=stop_sweep,
        icon=":material/stop:",
        disabled=not sweeping,
    )
    st.fragment(sweep_view, run_every=SWEEP_TICK * PACE if sweeping else None)(sweep_key)


def sweep_view(sweep_key: tuple) -> None:
    """The sweep's progress and curves (a fragment: trains a slice at each tick while running)."""
    current = SWEEP.value()
    if current is None:
        st.info(t("echo.sweep_none"), icon=":material/monitoring:")
        return
    was_running = current.running
    if current.running:
        load.tick(frame.session_id(), "echo_sweep")
        with load.training_slot(frame.session_id()) as share:
            current.advance(SWEEP_SLICE * share)
    if (was_running and not current.running) or (current.running and ECHO.repaced()):
        st.rerun()
    job = current.current()
    if job:
        text = t(
            "echo.sweep_progress",
            cell=t(f"echo.cell_{job[0]}"),
            k=job[1],
            point=current.index + 1,
            points=len(current.jobs),
            seconds=current.wall_seconds,
        )
    else:
        text = t("echo.sweep_done", seconds=current.wall_seconds)
    st.progress(current.progress, text=text)
    w = current.base.truncated_backprop_length
    labels = {n: t(f"echo.cell_{n}") for n in current.cells} | {
        "accuracy": t("echo.accuracy"),
        "echo_step": "echo_step",
        "window": t("echo.sweep_window", w=w),
        "point": t("echo.sweep_point"),
        **number_style(),
    }
    labels |= {
        f"why_{r}": t(f"echo.sweep_why_{r}") for r in ("target", "plateau", "budget", "diverged")
    }
    frame.chart(
        figs.sweep_curves(current.results, w, labels, current.details),
        key="echo_sweep_chart",
    )
    if not SWEEP.built_for(sweep_key):
        st.caption(t("echo.sweep_other_settings"))


truncation_section(config, cells)
sweep_section(config)
