"""A generated corpus for the conveyor-belt page: text whose next character depends on facts
held for many characters, in English and in Spanish.

A character model can only predict this text well by keeping two things on its belt:
  - whether a quotation is open: English "speech", Spanish dialogue (a dash opens the line, dashes
    frame the narrator's aside: —¿Vienes? —preguntó Marta—. Ven.) and Spanish «quotes». Every
    word said begins with a capital ("Marta Carries The Lamp"), every word told does not (but
    names and a sentence's first word), so at every space the model must know whether a
    quotation is open; what is said is in the present, what is told in the past;
  - how many brackets are open, up to three deep, of three kinds: (round [square {curly}]). A
    bracket opens a note of a few lines, each indented by two spaces per bracket open, and closes
    on a line of its own: at every new line the model must know the depth, and at the end which
    kind to close.
Each paragraph is a line (a note: a few lines); scenes, a blank line apart, are in one language
or the other at random. The text depends only on the seed (see corpus.Dice). Every word list and
template here was written for this project.
"""

from __future__ import annotations

from .corpus import Dice

BRACKETS = {"(": ")", "[": "]", "{": "}"}
DEEPEST = 3  # brackets nest at most this deep

# Few words, so that a small model spells them early and spends its units on the structure.
EN = {
    "names": ["Marta", "the keeper", "Tomás", "the cook"],
    "verbs": ["carried", "cleaned", "counted", "mended"],
    "now": ["carries", "cleans", "counts", "mends"],
    "things": ["the lamp", "the clock", "the bell", "the rope"],
    "places": ["by the sea", "on the stairs", "in the tower"],
    "remarks": ["at six", "or seven", "as always", "twice", "by the clock", "for once"],
    "questions": ["who lit the lamp", "where is the oil", "is the fog lifting"],
    "and": ", and ",
    "also": " and ",
    "said": ["said", "answered"],
    "asked": ["asked", "called"],
    "wrote": ["wrote", "noted"],
}
ES = {
    "names": ["Marta", "el farero", "Tomás", "la cocinera"],
    "verbs": ["llevó", "limpió", "contó", "arregló"],
    "now": ["lleva", "limpia", "cuenta", "arregla"],
    "things": ["la lámpara", "el reloj", "la campana", "la cuerda"],
    "places": ["junto al mar", "en la escalera", "en la torre"],
    "remarks": [
        "a las seis",
        "o a las siete",
        "como siempre",
        "dos veces",
        "según el reloj",
        "por una vez",
    ],
    "questions": ["quién encendió la lámpara", "dónde está el aceite", "se levanta la niebla"],
    "and": ", y ",
    "also": " y ",
    "said": ["dijo", "respondió"],
    "asked": ["preguntó", "gritó"],
    "wrote": ["escribió", "anotó"],
}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


INDENT = "  "  # per open bracket, at the start of every line of a note


def _words_capital(text: str) -> str:
    return " ".join(_capital(word) for word in text.split(" "))


class _BeltWriter(Dice):
    def clause(self, words: dict, said: bool = False) -> str:
        """Someone does one to three things somewhere: in the past when the narrator tells it,
        in the present when someone says it."""
        verbs = words["now" if said else "verbs"]
        done = [
            f"{self.pick(verbs)} {self.pick(words['things'])}" for _ in range(self.number(1, 3))
        ]
        s = self.pick(words["names"]) + " "
        s += done[0] if len(done) == 1 else ", ".join(done[:-1]) + words["also"] + done[-1]
        return s + " " + self.pick(words["places"])

    def sentences(self, words: dict, most: int, capital: bool = True, said: bool = False) -> str:
        """One to `most` sentences of one or two clauses, with no final stop: told (the past) or
        said (the present), the same words otherwise."""
        out = []
        for _ in range(self.number(1, most)):
            s = self.clause(words, said)
            if self.chance(0.3):
                s += words["and"] + self.clause(words, said)
            out.append(_capital(s) if capital or out else s)
        return ". ".join(out)

    def speech(self, words: dict, most: int) -> str:
        """What someone says, shouted over the wind: sentences in the present, in capitals."""
        return _words_capital(self.sentences(words, most, said=True))

    def dialogue_en(self) -> str:
        """An English line with "SPEECH" in it."""
        w, who = EN, self.pick(EN["names"])
        kind = self.number(0, 4)
        if kind == 0:
            return f'"{self.speech(w, 2)}," {self.pick(w["said"])} {who}.'
        if kind == 1:
            said = f"{self.pick(w['said'])} {who}"
            return f'"{self.speech(w, 1)}," {said}, "{self.speech(w, 2)}."'
        if kind == 2:
            return f'"{self.speech(w, 2)}."'
        if kind == 3:
            return f'{_capital(who)} {self.pick(w["said"])}, "{self.speech(w, 2)}."'
        return f'"{self.pick(w["questions"]).title()}?" {self.pick(w["asked"])} {who}.'

    def dialogue_es(self) -> str:
        """A Spanish line of dialogue: a dash opens it, dashes frame the narrator's aside, the
        end of the line ends it."""
        w, who = ES, self.pick(ES["names"])
        kind = self.number(0, 3)
        if kind == 0:
            return f"—{self.speech(w, 2)}."
        if kind == 1:
            said = f"{self.pick(w['said'])} {who}"
            return f"—{self.speech(w, 1)} —{said}—. {self.speech(w, 1)}."
        question = f"—¿{self.pick(w['questions']).title()}?"
        if kind == 2:
            return f"{question} —{self.pick(w['asked'])} {who}."
        return f"{question} {self.speech(w, 2)}."

    def prose(self, words: dict) -> str:
        """A line of narration, sometimes with a note «WRITTEN» (Spanish) or "WRITTEN"."""
        line = self.sentences(words, 2) + "."
        if self.chance(0.3):
            who = _capital(self.pick(words["names"]))
            said = self.speech(words, 1)
            said = f"«{said}»" if words is ES else f'"{said}"'
            line += f" {who} {self.pick(words['wrote'])}: {said}."
        return line

    def note(self, words: dict, depth: int = 1) -> list[str]:
        """The lines inside a bracket opened at `depth`, each indented by the brackets open:
        remarks and things done, often with a bracket of their own, then the closing bracket on
        a line of its own, indented as the line that opened it."""
        opening = self.pick(list(BRACKETS))
        lines = []
        for _ in range(self.number(1, 3)):
            item = self.pick(words["remarks"]) if self.chance(0.4) else self.clause(words)
            if depth < DEEPEST and self.chance(0.4):
                inner = self.note(words, depth + 1)
                lines += [INDENT * depth + item + " " + inner[0], *inner[1:]]
            else:
                lines.append(INDENT * depth + item)
        return [opening, *lines, INDENT * (depth - 1) + BRACKETS[opening]]

    def notes(self, words: dict) -> str:
        """A paragraph of notes: a thing done, then what goes with it in brackets, a line each."""
        first, *rest = self.note(words)
        return "\n".join([_capital(self.clause(words)) + " " + first, *rest]) + "."

    def scene(self) -> str:
        """A few paragraphs in one language."""
        spanish = self.chance(0.5)
        words = ES if spanish else EN
        paragraphs = []
        for _ in range(self.number(4, 8)):
            roll = self.r.random()
            if roll < 0.4:
                paragraphs.append(self.dialogue_es() if spanish else self.dialogue_en())
            elif roll < 0.7:
                paragraphs.append(self.notes(words))
            else:
                paragraphs.append(self.prose(words))
        return "\n".join(paragraphs)


def generate_belt_corpus(seed: int = 1931, min_bytes: int = 220_000) -> str:
    """Scenes in English and Spanish, a blank line apart, until there are at least `min_bytes`
    of UTF-8."""
    w = _BeltWriter(seed)
    parts, size = [], 0
    while size < min_bytes:
        text = w.scene() + "\n\n"
        parts.append(text)
        size += len(text.encode("utf-8"))
    return "".join(parts)


def belt_inputs(seed: int, min_bytes: int, limit: int = 400) -> list[str]:
    """Fresh generated text cut into inputs the belt page could be given: whole paragraphs (a
    paragraph of notes with all its lines: no input starts inside a bracket), each input at most
    `limit` characters (a longer paragraph alone is left out). A seed other than the training
    text's gives text the model never saw."""
    paragraphs: list[str] = []
    for line in generate_belt_corpus(seed, min_bytes).splitlines(keepends=True):
        if paragraphs and (line.startswith(INDENT) or line[:1] in BRACKETS.values()):
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
    inputs, current = [], ""
    for paragraph in paragraphs:
        if len(current) + len(paragraph) > limit and current:
            inputs.append(current)
            current = ""
        if len(paragraph) <= limit:
            current += paragraph
    return inputs + ([current] if current.strip() else [])
