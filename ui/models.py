"""Where the cell and belt pages get their models (a source's id -> a model), and the example
input each source shows. What a model reads of a typed input is lstm_core.inputs.

Cached models are shared by every session (st.cache_resource): pages only read them. Anything
that trains copies first.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import EchoConfig, EchoTrainer, Model, ModelConfig
from lstm_core.cells import DEFAULT_CELL
from lstm_core.inputs import readable_example
from ui import samples

SOURCES = ("echo_trained", "echo_random", "text_en", "text_es", "logbook", "text_random")
SAMPLE_BY_SOURCE = {s.source: s for s in samples.SAMPLES.values()}
EXAMPLES = {"echo": "0110100111010011", **{k: s.example for k, s in SAMPLE_BY_SOURCE.items()}}
BELT_EXAMPLES = {  # longer, with quotes and parentheses for the belt page's property search
    "echo": "0110100111010011101100101110001011010011100101101001110100110110",
    **{k: s.belt_example for k, s in SAMPLE_BY_SOURCE.items()},
}


@st.cache_resource(max_entries=16, show_spinner=False)
def trained_echo(seed: int) -> tuple[Model, float]:
    """The notebook's echo LSTM, trained until 99% (two or three epochs, about a second)."""
    trainer = EchoTrainer(EchoConfig(num_epochs=3, seed=seed))
    trainer.keep_history()  # so the cell and belt pages can go back through its training
    accuracy = trainer.train_until(0.99)
    trainer.model.history = trainer.history
    return trainer.model, accuracy


def sample_model(source: str) -> Model:
    """A shipped model by its id here ("text_en", "echo_gru"): read-only, shared by every session."""
    return samples.model(samples.BY_SOURCE.get(source, source))


def random_model(kind: str, units: int, seed: int) -> Model:
    """A fresh, untrained LSTM: an echo model, or a char model over the English sample's vocabulary."""
    if kind == "echo":
        config = ModelConfig("echo", DEFAULT_CELL, 1, units, 1, 2)
    else:
        vocab = sample_model("text_en").config.vocab
        config = ModelConfig(
            "char-lm", DEFAULT_CELL, len(vocab), units, 1, len(vocab), vocab=vocab, lowercase=True
        )
    return Model.create(config, seed=seed)


def get(source: str, units: int, seed: int) -> Model:
    if source == "echo_trained":
        return trained_echo(seed)[0]
    if source == "echo_random":
        return random_model("echo", units, seed)
    if source == "text_random":
        return random_model("text", units, seed)
    return sample_model(source)


# The belt model's examples (samples/belt.txt's kind of text, in the page's language): a line
# told, then a long quotation, every word said with a capital, then a note in brackets two deep,
# a line each, indented by the brackets open: the unit that holds the quotation shows as a stripe
# that starts where the quotation opens and ends where it closes, and the one that follows the
# brackets steps with them (tests/test_belt_model.py).
BELT_MODEL_EXAMPLES = {
    "en": "The cook counted the rope and mended the bell in the tower. Tomás cleaned the clock on "
    'the stairs.\n"Marta Carries The Lamp, Counts The Rope And Mends The Clock On The Stairs. The '
    'Keeper Cleans The Bell In The Tower," said Tomás.\nThe keeper carried the lamp by the sea (\n'
    "  at six\n  Marta mended the bell by the sea [\n    twice\n"
    "    the keeper carried the lamp on the stairs\n  ]\n  for once\n).\n",
    "es": "La cocinera contó la cuerda en la torre. Tomás limpió el reloj en la escalera.\n—Marta "
    "Lleva La Lámpara, Cuenta La Cuerda Y Arregla El Reloj En La Escalera —dijo Tomás—. El Farero "
    "Limpia La Campana.\nEl farero llevó la lámpara junto al mar (\n  a las seis\n  Marta arregló "
    "la campana [\n    dos veces\n    el farero contó la cuerda\n  ]\n  por una vez\n).\n",
}


def belt_example(model: Model, source: str = "", lang: str = "en") -> str:
    """The source's own example (the belt model's in `lang`), else (an uploaded model) the one
    the model can read best, kept to what it reads."""
    if model.config.kind == "echo":
        return BELT_EXAMPLES["echo"]
    if source in samples.BELT_MODELS:  # the LSTM's and the GRU's of belt.txt
        return BELT_MODEL_EXAMPLES[lang]
    if source in BELT_EXAMPLES:
        return BELT_EXAMPLES[source]
    return readable_example(model, [BELT_EXAMPLES["text_en"], BELT_EXAMPLES["text_es"]])


def example_input(source: str, model: Model | None = None) -> str:
    """The short example of the page "Inside one step": the source's own, else (an uploaded
    model) the one the model can read best, kept to what it reads."""
    if source.startswith("echo") or (model is not None and model.config.kind == "echo"):
        return EXAMPLES["echo"]
    if source in EXAMPLES or model is None:
        return EXAMPLES.get(source, EXAMPLES["text_en"])
    return readable_example(model, [EXAMPLES["text_en"], EXAMPLES["text_es"]])
