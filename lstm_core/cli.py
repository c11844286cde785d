"""The command line: `python -m lstm_core {train-text, train-echo, generate, inspect, bench}`.

Installed as a package the same commands are `lstm-lab ...` (lstm_lab/ adds `lstm-lab app`).
Every command takes --help (with each option's default) and --json. Expected failures (a missing
file, a bad checkpoint, a text too short) print one line to stderr and exit with status 1; usage
errors exit with 2; Ctrl-C exits with 130 (train-text and train-echo save the model so far first). Long
training shows a progress bar with its rate and the time left on a terminal, plain lines
otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import __version__
from .against import CHARLM, format_against, run_against
from .belt_corpus import generate_belt_corpus
from .bench import format_report, run_benchmark
from .cells import DEFAULT_CELL, NAMES
from .checkpoint import CheckpointError, describe, load_checkpoint, save_checkpoint
from .corpus import generate_corpus
from .echo import EchoConfig
from .model import Model, ModelConfig
from .optim import OPTIMIZERS
from .sampling import DEFAULT_TEMPERATURE, OPENING_KEY, OPENING_LENGTH, default_seed_text, generate
from .terminal import Progress, StopOnCtrlC
from .text import (
    TextError,
    Vocabulary,
    bits_per_character,
    prepare_corpus,
    read_text,
    split_held_out,
)
from .training import EchoTrainer, TextSettings, TextTrainer


def _int_at_least(lowest: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, not {value}")
        return value

    return parse


_positive_int, _non_negative_int = _int_at_least(1), _int_at_least(0)


def _float_where(ok, wanted: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"must be {wanted}, not {text}")
        return value

    return parse


_positive_float = _float_where(lambda v: v > 0, "a positive number")
_non_negative_float = _float_where(lambda v: v >= 0, "a number >= 0")
_fraction = _float_where(lambda v: 0 <= v < 1, "in [0, 1)")


def _finite_or_none(value):
    """JSON has no NaN or infinity: a number that is not finite is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


def _emit(args, summary: dict, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(_finite_or_none(summary), ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines))


# ---------------------------------------------------------------------------- train-text
FINAL_LOSS_STEPS = 20  # "final loss": the mean over the last steps (one batch is noisy)
INTERRUPTED = 130  # the exit status of a program stopped by Ctrl-C (128 + SIGINT)


def _save_whole(model: Model, out) -> None:
    """Write the checkpoint beside `out`, then move it into place: a reader (or a Ctrl-C during
    the write) never finds half a file under the real name."""
    out = Path(out)
    part = out.with_name(out.name + ".part")
    save_checkpoint(model, part)
    os.replace(part, out)


def _read_noted(path) -> str:
    loaded = read_text(path)
    if loaded.notice:
        print(f"note: {path}: {loaded.notice}", file=sys.stderr)
    return loaded.text


def cmd_train_text(args) -> int:
    raw = _read_noted(args.text)
    if args.init:
        model = load_checkpoint(args.init)
        if model.config.kind != "char-lm":
            raise CheckpointError(
                f"{args.init} is an {model.config.kind} model, not a character model"
            )
        vocab = Vocabulary(model.config.vocab)
        text = raw.lower() if model.config.lowercase else raw
    else:
        text = raw.lower() if args.lowercase else raw
    held_out = ""
    if args.hold_out:  # split as the app's text page does, after lowercasing
        text, held_out = split_held_out(text)
        if not held_out:
            print(
                "note: the text is too short to hold out a tail; it is all used for training",
                file=sys.stderr,
            )
    if args.init:
        unknown = vocab.unknown(text)
        if unknown:
            print(
                f"note: {len(unknown)} characters of the text are not in the checkpoint's "
                "vocabulary and are skipped",
                file=sys.stderr,
            )
        ids = vocab.encode(text, skip_unknown=True)
    else:
        text, vocab = prepare_corpus(text, False, args.seq_length + 1)
        config = ModelConfig(
            "char-lm",
            args.cell,
            len(vocab),
            args.hidden_size,
            args.num_layers,
            len(vocab),
            vocab=vocab.chars,
            lowercase=args.lowercase,
        )
        model = Model.create(config, seed=args.seed, forget_bias=args.forget_bias)
        ids = vocab.encode(text)
    settings = TextSettings(
        args.seq_length,
        args.batch_size,
        args.learning_rate,
        args.optimizer,
        args.dropout,
        args.clip_norm,
        args.seed,
    )
    trainer = TextTrainer(model, ids, settings)
    progress = Progress(args.steps, chars_per_unit=settings.characters_per_step)
    recent: list[float] = []

    def record() -> dict:  # what the checkpoint says about its training, as it stands
        return {
            "text": Path(args.text).name,
            OPENING_KEY: text[:OPENING_LENGTH],  # generate's default seed text
            "characters": len(ids),
            "held_out": len(held_out),
            "steps": trainer.steps_done,
            **asdict(settings),
            "forget_bias": args.forget_bias,
            "final_loss": float(np.mean(recent)) if recent else float("nan"),
        }

    with StopOnCtrlC() as ctrl_c:
        for snap in trainer.run(args.steps):
            if math.isfinite(snap.loss):
                recent = [*recent[-(FINAL_LOSS_STEPS - 1) :], snap.loss]
            progress.update(snap.step, f"step {snap.step}/{args.steps} loss {snap.loss:.3f}")
            if ctrl_c.requested:
                break
            if args.save_every and snap.step % args.save_every == 0 and snap.step < args.steps:
                model.meta["training"] = record()
                _save_whole(model, args.out)
    progress.close()
    model.meta["training"] = record()
    final_loss = model.meta["training"]["final_loss"]
    if ctrl_c.requested:
        model.meta["training"]["stopped"] = f"interrupted after {trainer.steps_done} steps"
        _save_whole(model, args.out)
        print(
            f"interrupted after {trainer.steps_done} of {args.steps} steps: "
            f"the model so far is saved in {args.out}",
            file=sys.stderr,
        )
        return INTERRUPTED
    if trainer.status == "diverged":  # the trainer went back to the last good weights: keep them
        model.meta["training"]["stopped"] = trainer.message
        _save_whole(model, args.out)
        raise ValueError(f"{trainer.message} They are saved in {args.out}.")
    eval_bpc, scored, skipped = None, 0, 0
    eval_text = _read_noted(args.eval_text) if args.eval_text else held_out
    if eval_text:
        eval_bpc, scored, skipped = bits_per_character(model, eval_text)
        if not scored:
            eval_bpc = None
            print(
                "note: no character of the evaluation text is in the model's vocabulary",
                file=sys.stderr,
            )
    _save_whole(model, args.out)
    seconds = trainer.elapsed
    summary = {
        "out": str(args.out),
        "steps": trainer.steps_done,
        "final_loss": final_loss,
        "final_loss_steps": len(recent),
        "train_bits_per_character": final_loss / math.log(2),
        "eval_text": "held-out tail" if not args.eval_text and held_out else args.eval_text,
        "eval_bits_per_character": eval_bpc,
        "eval_characters_scored": scored,
        "eval_characters_skipped": skipped,
        "bits_per_character": eval_bpc if eval_bpc is not None else final_loss / math.log(2),
        "seconds": seconds,
        "characters_per_s": trainer.characters_seen / seconds if seconds > 0 else None,
        "vocabulary_size": len(model.config.vocab),
        "parameters": model.config.num_parameters(),
    }
    lines = [
        f"trained {trainer.steps_done} steps in {seconds:.1f}s "
        f"({summary['characters_per_s'] or 0:,.0f} characters/s)",
        f"final loss (mean of the last {len(recent)} steps) {final_loss:.4f} nats = "
        f"{summary['train_bits_per_character']:.3f} bits/char (training)",
    ]
    if eval_bpc is not None:
        where = "held-out tail" if summary["eval_text"] == "held-out tail" else "held-out text"
        lines.append(
            f"{where}: {eval_bpc:.3f} bits/char over {scored} characters ({skipped} skipped)"
        )
    lines.append(f"saved {args.out}")
    _emit(args, summary, lines)
    return 0


# ---------------------------------------------------------------------------- train-echo
def cmd_train_echo(args) -> int:
    config = EchoConfig(
        total_series_length=args.total_series_length,
        truncated_backprop_length=args.truncated_backprop_length,
        state_size=args.state_size,
        echo_step=args.echo_step,
        batch_size=args.batch_size,
        num_epochs=args.num_epochs,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        cell=args.cell,
        seed=args.seed,
    )
    trainer = EchoTrainer(config)
    progress = Progress(config.num_epochs * config.windows_per_epoch, unit="windows")

    def report(tr: EchoTrainer, accuracy: float) -> None:
        text = (
            f"epoch {tr.epoch}/{config.num_epochs} loss {tr.last.loss:.4f} accuracy {accuracy:.4f}"
        )
        progress.update(tr.steps_done, text)

    with StopOnCtrlC() as ctrl_c:
        accuracy = trainer.train_until(
            args.target_accuracy, on_epoch=report, stop=lambda: ctrl_c.requested
        )
    progress.close()
    if args.out:
        trainer.model.meta["training"] = {
            "epochs": trainer.epoch,
            "windows": trainer.steps_done,
            "accuracy": accuracy,
        }
    if ctrl_c.requested:
        where = "nothing saved (no --out)"
        if args.out:
            trainer.model.meta["training"]["stopped"] = (
                f"interrupted after {trainer.steps_done} windows"
            )
            _save_whole(trainer.model, args.out)
            where = f"the model so far is saved in {args.out}"
        print(
            f"interrupted after {trainer.steps_done} windows (accuracy on fresh data "
            f"{accuracy:.4f}): {where}",
            file=sys.stderr,
        )
        return INTERRUPTED
    if trainer.status == "diverged":  # the last good weights are back in place
        if not args.out:
            raise ValueError(trainer.message)
        trainer.model.meta["training"]["stopped"] = trainer.message
        _save_whole(trainer.model, args.out)
        raise ValueError(f"{trainer.message} They are saved in {args.out}.")
    if args.out:
        _save_whole(trainer.model, args.out)
    seconds = trainer.elapsed
    summary = {
        "cell": config.cell,
        "echo_step": config.echo_step,
        "truncated_backprop_length": config.truncated_backprop_length,
        "epochs": trainer.epoch + (1 if trainer.window else 0),
        "windows": trainer.steps_done,
        "final_loss": trainer.last.loss if trainer.last else None,
        "accuracy": accuracy,
        "seconds": seconds,
        "ms_per_window": 1e3 * seconds / max(1, trainer.steps_done),
        "out": str(args.out) if args.out else None,
    }
    lines = [
        f"{config.cell.upper()} echo_step={config.echo_step} window={config.truncated_backprop_length}: "
        f"{trainer.steps_done} windows in {seconds:.2f}s ({summary['ms_per_window']:.3f} ms/window)",
        f"final loss {summary['final_loss']:.4f}, accuracy on fresh data {accuracy:.4f}",
    ]
    if args.out:
        lines.append(f"saved {args.out}")
    _emit(args, summary, lines)
    return 0


# ---------------------------------------------------------------------------- generate
def cmd_generate(args) -> int:
    model = load_checkpoint(args.checkpoint)
    if model.config.kind != "char-lm":
        raise CheckpointError(
            f"{args.checkpoint} is an {model.config.kind} model: it cannot write text"
        )
    seed_text = default_seed_text(model) if args.seed_text is None else args.seed_text
    chars = [
        s.char
        for s in generate(model, seed_text, args.length, args.temperature, args.top_k, args.seed)
    ]
    text = "".join(chars)
    if args.json:
        print(
            json.dumps(
                {
                    "seed_text": seed_text,
                    "continuation": text,
                    "length": args.length,
                    "temperature": args.temperature,
                    "top_k": args.top_k,
                    "seed": args.seed,
                },
                ensure_ascii=False,
            )
        )
    else:
        sys.stdout.write(text + ("\n" if sys.stdout.isatty() else ""))
    return 0


# ---------------------------------------------------------------------------- inspect
def cmd_inspect(args) -> int:
    model = load_checkpoint(args.checkpoint)
    info = describe(model)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    meta = info["meta"]
    vocab = meta.get("vocab") or []
    lines = [
        f"{args.checkpoint}: {meta['format']}, {meta['kind']}, {meta['cell'].upper()}, "
        f"{meta['num_layers']} layer(s) of {meta['hidden_size']} units, "
        f"{info['parameters']:,} parameters",
        f"input_size {meta['input_size']}, output_size {meta['output_size']}"
        + (f", vocabulary of {len(vocab)}: {''.join(vocab)!r}" if vocab else ""),
    ]
    lines += [f"  {k:<24} {tuple(v)}" for k, v in info["weights"].items()]
    extra = {
        k: v
        for k, v in meta.items()
        if k
        not in {
            "format",
            "kind",
            "cell",
            "input_size",
            "hidden_size",
            "num_layers",
            "output_size",
            "vocab",
        }
    }
    if extra:
        lines.append("meta: " + json.dumps(extra, ensure_ascii=False))
    print("\n".join(lines))
    return 0


# ---------------------------------------------------------------------------- corpus
def cmd_corpus(args) -> int:
    generate = generate_belt_corpus if args.kind == "belt" else generate_corpus
    text = generate(seed=args.seed, min_bytes=args.min_bytes)
    Path(args.out).write_text(text, encoding="utf-8")
    summary = {
        "out": str(args.out),
        "seed": args.seed,
        "characters": len(text),
        "bytes": len(text.encode("utf-8")),
        "distinct_characters": len(set(text)),
    }
    _emit(
        args,
        summary,
        [
            f"wrote {summary['bytes']:,} bytes ({len(text):,} characters, "
            f"{summary['distinct_characters']} distinct) to {args.out}"
        ],
    )
    return 0


# ---------------------------------------------------------------------------- bench
def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    try:
        pairs = [part.split(":") for part in text.split(",")]
        sizes = tuple((int(h), int(n)) for h, n in pairs)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected hidden:threads pairs, e.g. 128:2,256:1"
        ) from None
    if not all(1 <= h <= 4096 and 1 <= n <= 64 for h, n in sizes):
        raise argparse.ArgumentTypeError("hidden from 1 to 4096, threads from 1 to 64")
    return sizes


def cmd_bench(args) -> int:
    if args.against == "torch":
        results = run_against(rounds=args.rounds, configs=args.sizes or CHARLM)
        print(json.dumps(results, indent=2) if args.json else format_against(results))
        return 0
    results = run_benchmark(quick=args.quick)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_report(results))
    return 0


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default written after its help (none where there is none)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


# A function that adds commands of its own to the parser's subparsers (lstm_lab adds `app`).
AddCommands = Callable[[argparse._SubParsersAction], None]


def build_parser(
    prog: str = "python -m lstm_core", add_commands: AddCommands | None = None
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="LSTM Lab's NumPy engine: train, sample, inspect and benchmark LSTMs and RNNs.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="show the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, formatter_class=HelpFormatter, **kwargs)

    def json_flag(p: argparse.ArgumentParser, what: str = "a JSON summary") -> None:
        p.add_argument("--json", action="store_true", help=f"print {what} instead of text")

    d = TextSettings()
    p = command(
        "train-text",
        help="train a character language model on a text file",
        description="Train a character-level LSTM (or RNN) on a text, as in the paper's case "
        "study. Ctrl-C stops after the step under way and saves the model so far to --out "
        "(exit status 130).",
    )
    p.add_argument(
        "--text", required=True, help="training text (UTF-8, with or without BOM, or Windows-1252)"
    )
    p.add_argument("--out", required=True, help="where to write the checkpoint (.npz)")
    held = p.add_mutually_exclusive_group()
    held.add_argument("--eval-text", help="held-out text: report bits per character on it")
    held.add_argument(
        "--hold-out",
        action="store_true",
        help="keep the text's last tenth (up to 20,000 characters) out of training, as "
        "the app's text page does, and report bits per character on it",
    )
    p.add_argument("--init", help="continue training this checkpoint instead of starting fresh")
    p.add_argument("--cell", choices=NAMES, default=DEFAULT_CELL, help="the recurrent cell")
    p.add_argument(
        "--hidden-size", type=_positive_int, default=128, help="units per layer (the paper: 256)"
    )
    p.add_argument(
        "--num-layers", type=int, choices=[1, 2, 3], default=1, help="layers stacked in depth"
    )
    p.add_argument(
        "--seq-length",
        type=_positive_int,
        default=d.seq_length,
        help="characters per training window, backpropagated through (the paper: 60)",
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=d.batch_size, help="windows per step"
    )
    p.add_argument("--steps", type=_positive_int, default=1000, help="training steps")
    p.add_argument(
        "--learning-rate", type=_positive_float, default=d.learning_rate, help="step size"
    )
    p.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default=d.optimizer, help="the update rule"
    )
    p.add_argument(
        "--dropout",
        type=_fraction,
        default=d.dropout,
        help="dropout on the LSTM's output while training",
    )
    p.add_argument(
        "--clip-norm",
        type=_non_negative_float,
        default=d.clip_norm,
        help="clip the gradient's global norm to this (0 turns clipping off)",
    )
    p.add_argument(
        "--forget-bias",
        type=float,
        default=0.0,
        help="added to the LSTM's forget-gate bias at the start (0: PyTorch's start); a positive "
        "one opens the belt from the first step, so long dependencies are found sooner (a new "
        "model only, not --init)",
    )
    p.add_argument(
        "--lowercase", action="store_true", help="lowercase the text first (as the paper)"
    )
    p.add_argument(
        "--save-every",
        type=_positive_int,
        default=None,
        help="also write --out every N steps, so a long run can be stopped or lost at any time",
    )
    p.add_argument(
        "--seed", type=_non_negative_int, default=d.seed, help="seed of the weights and batches"
    )
    json_flag(p)
    p.set_defaults(func=cmd_train_text)

    d = EchoConfig()
    p = command(
        "train-echo",
        help="train on the echo task (the notebook's experiment)",
        description="Learn to echo a random bit sequence echo_step steps later, with truncated "
        "BPTT. Ctrl-C stops after the window under way and saves the model so far to --out, if "
        "given (exit status 130).",
    )
    p.add_argument("--cell", choices=NAMES, default=DEFAULT_CELL, help="the recurrent cell")
    p.add_argument(
        "--echo-step",
        type=_non_negative_int,
        default=d.echo_step,
        help="how many steps later each bit is to be echoed",
    )
    p.add_argument(
        "--truncated-backprop-length",
        type=_positive_int,
        default=d.truncated_backprop_length,
        help="steps per window that backpropagation reaches back through",
    )
    p.add_argument(
        "--state-size", type=_positive_int, default=d.state_size, help="units of the cell"
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=d.batch_size, help="series trained side by side"
    )
    p.add_argument(
        "--total-series-length",
        type=_positive_int,
        default=d.total_series_length,
        help="bits of fresh data per epoch (split over the batch)",
    )
    p.add_argument("--num-epochs", type=_positive_int, default=d.num_epochs, help="epochs")
    p.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default=d.optimizer, help="the update rule"
    )
    p.add_argument(
        "--learning-rate", type=_positive_float, default=d.learning_rate, help="step size"
    )
    p.add_argument(
        "--seed", type=_non_negative_int, default=d.seed, help="seed of the weights and the data"
    )
    p.add_argument(
        "--target-accuracy",
        type=float,
        default=None,
        help="stop after the first epoch whose fresh-data accuracy reaches this",
    )
    p.add_argument("--out", help="write the trained model here (.npz)")
    json_flag(p)
    p.set_defaults(func=cmd_train_echo)

    p = command(
        "generate",
        help="write text with a trained character model",
        description="Read the seed text, then sample LENGTH characters; prints only what the "
        "model wrote.",
    )
    p.add_argument("--checkpoint", required=True, help="a character model (.npz)")
    p.add_argument(
        "--seed-text",
        "--prime",
        dest="seed_text",
        default=None,
        help="what the model reads before it writes (default: the start of its training text "
        "as train-text recorded it, else a newline)",
    )
    p.add_argument("--length", type=_non_negative_int, default=200, help="characters to write")
    p.add_argument(
        "--temperature",
        type=_non_negative_float,
        default=DEFAULT_TEMPERATURE,
        help="below 1 safer, above 1 wilder, 0 = always the most likely; the app starts at the same",
    )
    p.add_argument(
        "--top-k",
        type=_positive_int,
        default=None,
        help="draw only from the K most likely characters",
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        default=None,
        help="seed of the sampling (default: a different text every run)",
    )
    json_flag(p, "the seed text, the continuation and the settings as JSON")
    p.set_defaults(func=cmd_generate)

    p = command("inspect", help="show a checkpoint's meta and weight shapes")
    p.add_argument("checkpoint", help="the checkpoint (.npz)")
    json_flag(p, "everything as JSON")
    p.set_defaults(func=cmd_inspect)

    p = command(
        "corpus",
        help="write the generated logbook corpus (deterministic)",
        description="Write the lighthouse logbook generated by lstm_core.corpus.",
    )
    p.add_argument("--out", required=True, help="where to write the text")
    p.add_argument(
        "--kind",
        choices=["logbook", "belt"],
        default="logbook",
        help="the logbook (lstm_core.corpus) or the belt page's text (lstm_core.belt_corpus)",
    )
    p.add_argument("--seed", type=_non_negative_int, default=1931, help="the text's random seed")
    p.add_argument(
        "--min-bytes", type=_positive_int, default=220_000, help="write at least this many bytes"
    )
    json_flag(p)
    p.set_defaults(func=cmd_corpus)

    p = command("bench", help="measure the engine's speed on this machine")
    p.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure in seconds)")
    p.add_argument(
        "--against",
        choices=["torch"],
        help="the same training steps in PyTorch too, side by side (PyTorch is optional)",
    )
    p.add_argument("--rounds", type=_positive_int, default=2, help="repeats of --against")
    p.add_argument(
        "--sizes",
        type=_sizes,
        help="--against: char-LM sizes as hidden:threads pairs, e.g. 128:2,256:1 "
        "(default: 32:2,128:2,256:2,512:2,128:1,256:1)",
    )
    json_flag(p, "the results as JSON")
    p.set_defaults(func=cmd_bench)
    if add_commands is not None:
        add_commands(sub)
    return parser


def main(
    argv: list[str] | None = None,
    prog: str = "python -m lstm_core",
    add_commands: AddCommands | None = None,
) -> int:
    """Run one command. A command whose parser sets `passes_on` gets the arguments it does not
    know in `args.rest` (`lstm-lab app` hands them to Streamlit); any other command refuses them."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    parser = build_parser(prog, add_commands)
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passes_on", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    try:
        return args.func(args)
    except (CheckpointError, TextError, ValueError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
