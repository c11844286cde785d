"""Problems with what a user brought (a text, a checkpoint, an address, a learning rate).

Each is raised, or recorded, with one English line for the command line and a `code` with its
`params`, so that a UI can say the same thing in its own language (the app's catalogs have an
`errors.<code>` entry for every code raised here; a test keeps that true). Params are plain
numbers and strings, so a problem can also travel as JSON (from the training worker).
"""

from __future__ import annotations


class LabError(ValueError):
    """str(error): one line for the user. code, params: the same, for a translation."""

    def __init__(self, message: str, code: str = "", **params) -> None:
        super().__init__(message)
        self.code, self.params = code, params

    def as_dict(self) -> dict:
        return {"text": str(self), "code": self.code, "params": self.params}
