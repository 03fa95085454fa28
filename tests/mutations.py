"""A wrong implementation fed to a check (an `infgrad verify` row or a proofs_check step) to see it fail.

The cases live in tests/verify_mutations.py and tests/proofs_mutations.py.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Mutation:
    """`case` (a verify row id or a proof step id) must turn red when the object `target`
    ("package.module.name": a function, a formula helper or a dict of expressions) is replaced by
    `make(original)`; `why` says what is wrong."""

    case: str
    target: str
    make: Callable[[object], object]
    why: str

    @property
    def name(self) -> str:
        return self.target.rsplit(".", 1)[-1]

    def apply(self, monkeypatch) -> None:
        module_name, attribute = self.target.rsplit(".", 1)
        module = importlib.import_module(module_name)
        monkeypatch.setattr(module, attribute, self.make(getattr(module, attribute)))
