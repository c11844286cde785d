"""Every sample the app ships in samples/, named once: its text, the model trained on it, its
language, the words the text page's model starts writing from, and the inputs the cell and belt
pages show it. Loaded models are shared by every session (st.cache_resource): copy before training.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import lstm_core
from lstm_lab import app_home

FOLDER = app_home() / "samples"  # beside app.py: in the checkout, or where pip installed it


@dataclass(frozen=True)
class Sample:
    text: str  # the corpus, a file in samples/
    checkpoint: str  # the model trained on it (samples/README.md: the command that made it)
    language: str  # "en" or "es"
    source: str  # its id among the cell and belt pages' models (their links say it)
    prime: str  # what the text page's model reads before writing
    example: str  # the cell page's short input
    belt_example: str  # the belt page's longer one: quotes and parentheses, properties to find


SAMPLES = {  # its id among the text page's corpora (the page's links say it) -> the sample
    "logbook": Sample(
        "logbook.txt",
        "logbook_h128.npz",
        "en",
        "logbook",
        '"where is the oil?" asked',
        '"where is the oil?" asked marta.',
        "12 march. fog.\noil: 7 barrels left. ships: the ferry.\nsteps climbed: 104 (again, "
        'cold lens (twice, old bell)).\n\n"who lit the lamp?" asked the cook.\n"marta did, at '
        'six," said the keeper, "and the sea knows it."',
    ),
    "story_en": Sample(
        "lighthouse_en.txt",
        "lighthouse_en_h64.npz",
        "en",
        "text_en",
        "the keeper ",
        "the keeper climbed the steps",
        '"why do you count the steps?" asked marta (who had followed him up one windy '
        'afternoon).\n"because the steps do not change," said the keeper, "and the sea does."',
    ),
    "story_es": Sample(
        "faro_es.txt",
        "faro_es_h64.npz",
        "es",
        "text_es",
        "el farero ",
        "el farero subía los escalones",
        "—¿por qué cuentas los escalones? —preguntó marta (que lo había seguido una tarde "
        "de mucho viento).\n«porque los escalones no cambian», dijo el farero, «y el mar sí».",
    ),
}
BY_SOURCE = {sample.source: name for name, sample in SAMPLES.items()}  # "text_en" -> "story_en"
ECHO_MODELS = {"echo_gru": "echo_gru_h4.npz"}  # no text of their own: the cell and belt pages' GRU
BELT_MODELS = {  # trained on belt.txt, which the text page does not offer
    "belt": "belt_h32.npz",
    "belt_gru": "belt_gru_h32.npz",
}
# The text models the belt page offers, in its list's order: the two stories (it opens on the
# one in the reader's language), the logbook, then the models of belt.txt.
BELT_TEXT_MODELS = (
    *(SAMPLES[name].source for name in ("story_en", "story_es", "logbook")),
    *BELT_MODELS,
)


@st.cache_data(show_spinner=False, max_entries=8)
def text(name: str) -> str:
    return lstm_core.read_text(FOLDER / SAMPLES[name].text).text


@st.cache_resource(show_spinner=False, max_entries=8)
def model(name: str) -> lstm_core.Model:
    """A sample's model (or one of ECHO_MODELS, BELT_MODELS): read-only, shared by every
    session: copy before training."""
    file = SAMPLES[name].checkpoint if name in SAMPLES else (ECHO_MODELS | BELT_MODELS)[name]
    return lstm_core.load_checkpoint(FOLDER / file)
