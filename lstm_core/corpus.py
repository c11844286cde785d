"""A generated corpus: a lighthouse keeper's logbook, written by a small grammar with a fixed seed.

It exists so that a character model trained on it learns structures the conveyor-belt page can
then find: dialogue in "quotation marks" (sometimes long), remarks in (parentheses, now and then
(nested)), numbers and dates, short log lines under headings, and paragraphs of prose. Every
word list and template here was written for this project.

The text depends only on the seed: the generator uses nothing but Python's `random.Random`
with `random()`, whose sequence is stable across Python versions.
"""

from __future__ import annotations

import random

NAMES = [
    "Marta",
    "the keeper",
    "the inspector",
    "Tomás",
    "old Ferrer",
    "the boatman",
    "Lucía",
    "the cook",
]
PLACES = [
    "the lamp room",
    "the stone road",
    "the harbour",
    "the lower stairs",
    "the cliff path",
    "the store room",
]
WEATHER = [
    "wind from the north",
    "wind from the west",
    "fog",
    "rain at dawn",
    "a calm sea",
    "a heavy swell",
    "snow",
]
THINGS = [
    "the lens",
    "the clock",
    "the oil",
    "the green book",
    "the bell",
    "the ladder",
    "the lantern",
    "the rope",
]
VERBS = [
    "counted",
    "wound",
    "cleaned",
    "checked",
    "carried",
    "mended",
    "painted",
    "weighed",
    "measured",
    "found",
]
ADJECTIVES = ["old", "cold", "narrow", "bright", "quiet", "heavy", "broken", "new", "wet", "long"]
SHIPS = [
    "a fishing boat",
    "the mail steamer",
    "two schooners",
    "a grain ship",
    "the ferry",
    "no ship at all",
]
QUESTIONS = [
    "Why do you count the steps",
    "Where is the oil",
    "Did the boat come",
    "Who lit the lamp",
    "How many barrels are left",
    "What did the inspector write",
    "Is the fog lifting",
]
ANSWERS = [
    "Because they do not change",
    "Down in the store room",
    "Not yet, not with this sea",
    "Marta did, at six",
    "Three, if we are careful",
    "Something about the clock",
    "Slowly, from the west",
]
SAID = ["said", "asked", "answered", "whispered", "called", "replied"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


class Dice:
    """Draws for a generator, from `random.Random(seed)` through `random()` alone: the same text
    for the same seed on every Python version. Shared by the logbook and the belt corpus."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def pick(self, items):
        return items[int(self.r.random() * len(items))]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def number(self, lo: int, hi: int) -> int:
        return lo + int(self.r.random() * (hi - lo + 1))


class _Writer(Dice):
    """The logbook's grammar."""

    def remark(self, depth: int = 0) -> str:
        """A parenthetical remark, occasionally with another one inside."""
        inner = f"{self.pick(ADJECTIVES)} {self.pick(THINGS)[4:]}"
        if depth == 0 and self.chance(0.25):
            inner += " " + self.remark(1)
        return f"({self.pick(['as always', 'again', 'for once', 'so he said', 'twice'])}, {inner})"

    def sentence(self) -> str:
        who = self.pick(NAMES)
        s = f"{who[0].upper()}{who[1:]} {self.pick(VERBS)} {self.pick(THINGS)} in {self.pick(PLACES)}"
        if self.chance(0.35):
            s += " " + self.remark()
        if self.chance(0.3):
            s += f" at {self.number(1, 12)} o'clock"
        return s + self.pick([".", ".", ".", "!", "; then the light went on."])

    def dialogue(self) -> str:
        """A question and its answer, quoted; sometimes the answer runs long."""
        k = int(self.r.random() * len(QUESTIONS))
        asker = self.pick(NAMES)
        teller = self.pick([n for n in NAMES if n != asker])
        answer = ANSWERS[k]
        if self.chance(0.3):
            answer += f", and {self.pick(NAMES)} {self.pick(VERBS)} {self.pick(THINGS)} {self.number(2, 112)} times"
        line = f'"{QUESTIONS[k]}?" {self.pick(SAID[:2])} {asker}.\n"{answer}," {self.pick(SAID)} {teller}'
        if self.chance(0.3):
            line += (
                f', "{self.pick(["and that is all", "and the sea knows it", "as the book says"])}."'
            )
        else:
            line += "."
        return line

    def log_entry(self) -> str:
        """Short lines under a date, as in the green book."""
        day, month = self.number(1, 28), self.pick(MONTHS)
        lines = [f"{day} {month}. {self.pick(WEATHER).capitalize()}."]
        lines.append(f"Oil: {self.number(0, 12)} barrels left. Ships: {self.pick(SHIPS)}.")
        if self.chance(0.5):
            lines.append(f"Steps climbed: {self.number(100, 112)} {self.remark()}.")
        if self.chance(0.3):
            lines.append(
                f"Note: {self.pick(THINGS)} {self.pick(['needs oil', 'was cold', 'turned late'])}."
            )
        return "\n".join(lines)

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.number(2, 5)))


def generate_corpus(seed: int = 1931, min_bytes: int = 220_000) -> str:
    """The logbook: chapters of log entries, prose and dialogue, at least `min_bytes` of UTF-8."""
    w = _Writer(seed)
    parts, size, chapter = [], 0, 0
    while size < min_bytes:
        chapter += 1
        block = [f"CHAPTER {chapter}"]
        for _ in range(w.number(4, 8)):
            kind = w.r.random()
            block.append(
                w.log_entry() if kind < 0.35 else w.dialogue() if kind < 0.7 else w.paragraph()
            )
        text = "\n\n".join(block) + "\n\n"
        parts.append(text)
        size += len(text.encode("utf-8"))
    return "".join(parts)
