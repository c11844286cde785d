"""A generated corpus for the conveyor-belt page: text whose next character depends on facts
held for many characters, in English and in Spanish.

A character model can only predict this text well by keeping two things on its belt:
  - whether a quotation is open: English "speech", Spanish dialogue (a dash opens the line, dashes
    frame the narrator's aside: —¿Vienes? —preguntó Marta—. Ven.) and Spanish «quotes». What is
    said is made of the same sentences as the narration around it, so nothing in the last few
    words tells inside from outside: only the opening mark, maybe a hundred characters back, says
    whether the sentence that just ended is followed by the closing mark;
  - which brackets are open, up to three deep, of three kinds: (round [square {curly}]). The
    closing one depends on the opening one, and how many close on how many opened.
Each paragraph is one line; scenes, a blank line apart, are in one language or the other at
random. The text depends only on the seed (see corpus.Dice). Every word list and template here
was written for this project.
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


class _BeltWriter(Dice):
    def remark(self, words: dict, depth: int = 1) -> str:
        """A remark in brackets of a random kind, often with another one inside."""
        opening = self.pick(list(BRACKETS))
        parts = [self.pick(words["remarks"])]
        if depth < DEEPEST and self.chance(0.5):
            parts.append(self.remark(words, depth + 1))
            if self.chance(0.4):
                parts.append(self.pick(words["remarks"]))
        return opening + " ".join(parts) + BRACKETS[opening]

    def clause(self, words: dict, said: bool = False) -> str:
        """Someone does one to three things somewhere, often with remarks in brackets: in the
        past when the narrator tells it, in the present when someone says it. Every verb says
        which, so a quotation's mark is needed again a few words on, and again, to its end."""
        verbs = words["now" if said else "verbs"]
        done = []
        for _ in range(self.number(1, 3)):
            s = f"{self.pick(verbs)} {self.pick(words['things'])}"
            if self.chance(0.3):
                s += " " + self.remark(words)
            done.append(s)
        s = self.pick(words["names"]) + " "
        s += done[0] if len(done) == 1 else ", ".join(done[:-1]) + words["also"] + done[-1]
        s += " " + self.pick(words["places"])
        if self.chance(0.3):
            s += " " + self.remark(words)
        return s

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

    def speech(self, words: dict, most: int, capital: bool = True) -> str:
        """What someone says: sentences in the present."""
        return self.sentences(words, most, capital, said=True)

    def dialogue_en(self) -> str:
        """An English line with "speech" in it."""
        w, who = EN, self.pick(EN["names"])
        kind = self.number(0, 4)
        if kind == 0:
            return f'"{self.speech(w, 2)}," {self.pick(w["said"])} {who}.'
        if kind == 1:
            said = f"{self.pick(w['said'])} {who}"
            return f'"{self.speech(w, 1)}," {said}, "{self.speech(w, 2, False)}."'
        if kind == 2:
            return f'"{self.speech(w, 2)}."'
        if kind == 3:
            return f'{_capital(who)} {self.pick(w["said"])}, "{self.speech(w, 2)}."'
        return f'"{_capital(self.pick(w["questions"]))}?" {self.pick(w["asked"])} {who}.'

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
        question = f"—¿{_capital(self.pick(w['questions']))}?"
        if kind == 2:
            return f"{question} —{self.pick(w['asked'])} {who}."
        return f"{question} {self.speech(w, 2)}."

    def prose(self, words: dict) -> str:
        """A line of narration; in Spanish, sometimes with a «quotation»."""
        line = self.sentences(words, 2) + "."
        if words is ES and self.chance(0.4):
            who = _capital(self.pick(words["names"]))
            line += f" {who} {self.pick(words['wrote'])}: «{self.speech(words, 1)}»."
        return line

    def scene(self) -> str:
        """A few paragraphs in one language, a line each."""
        spanish = self.chance(0.5)
        words = ES if spanish else EN
        paragraphs = []
        for _ in range(self.number(4, 8)):
            if self.chance(0.5):
                paragraphs.append(self.dialogue_es() if spanish else self.dialogue_en())
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
    """Fresh generated text cut into inputs the belt page could be given: whole lines, each input
    at most `limit` characters (a longer line alone is left out). A seed other than the training
    text's gives text the model never saw."""
    inputs, current = [], ""
    for line in generate_belt_corpus(seed, min_bytes).splitlines(keepends=True):
        if len(current) + len(line) > limit and current:
            inputs.append(current)
            current = ""
        if len(line) <= limit:
            current += line
    return inputs + ([current] if current.strip() else [])
