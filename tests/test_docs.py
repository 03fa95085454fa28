"""The documents stay true to the code: every test or proof step that docs/claims.md names exists,
every relative link of the README and of docs/ leads to a file, and the README stays short."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 150  # the README keeps the commands, the data and the tiers; the rest is linked

# `path/to/file.py`, `path/to/file.py::name` or `::name` (a name of the file named before it)
REFERENCE = re.compile(r"^(?:(?P<file>[\w./-]+\.py)|)(?:::(?P<name>\w+))?$")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def code_references(text: str) -> list[tuple[str, str | None]]:
    """(file, name or None) for every code span that names a Python file or a `::name` in it, in
    order; a bare `::name` belongs to the file of the nearest reference before it."""
    references, current = [], None
    for span in re.findall(r"`([^`]+)`", text):
        match = REFERENCE.match(span)
        if match is None or not (match["file"] or match["name"]):
            continue
        if match["file"]:
            current = match["file"]
        if current is None:
            raise ValueError(f"`{span}` names a test before any file")
        references.append((current, match["name"]))
    return references


def defined_names(path: Path) -> set[str]:
    """Names of the functions and classes a Python file defines, at any depth."""
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def missing_references(text: str, root: Path = ROOT) -> list[str]:
    """The references of `text` that name a file or a function that does not exist under root."""
    missing, names = [], {}
    for file, name in code_references(text):
        path = root / file
        if not path.is_file():
            missing.append(file)
            continue
        if name is not None:
            names.setdefault(file, defined_names(path))
            if name not in names[file]:
                missing.append(f"{file}::{name}")
    return missing


def broken_links(document: Path) -> list[str]:
    """Relative links of a Markdown document whose target is not in the repository."""
    links = [target for target in LINK.findall(document.read_text())
             if not target.startswith(("http://", "https://", "mailto:"))]
    return [target for target in links if not (document.parent / target).exists()]


def test_every_test_and_proof_step_named_in_the_claims_document_exists():
    """docs/claims.md names tests (`tests/...::test_x`) and proof steps (`proofs_check/...::step`):
    each file exists and defines each name."""
    text = (ROOT / "docs" / "claims.md").read_text()
    assert len(code_references(text)) > 80  # the document was parsed, not skipped
    assert missing_references(text) == []


def test_a_renamed_test_is_reported_missing():
    """Companion: a reference to a test that was renamed away, or to a file that is gone, is caught,
    and a bare `::name` is looked up in the file named before it."""
    text = ("`tests/test_lemma2.py::test_min_over_sigma_of_eq3_is_eq11_plus_kappa`, `::no_such_test` "
            "| `tests/no_such_file.py` | `proofs_check/lemma3.py::gamma_star_eq16`")
    assert missing_references(text) == ["tests/test_lemma2.py::no_such_test", "tests/no_such_file.py"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(document):
    assert broken_links(document) == []


def test_a_link_to_a_moved_document_is_reported(tmp_path):
    """Companion: a link whose target was moved away is caught."""
    (tmp_path / "there.md").write_text("x")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md) [gone](moved.md) [web](https://example.org/a.md) [anchor](there.md#x)")
    assert broken_links(page) == ["moved.md"]


def test_the_readme_is_short():
    """The README holds what the project is, the two commands, the data and the tiers; the claims
    and the deviations from the paper live in docs/ and are linked from it."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < README_MAX_LINES
    assert "docs/claims.md" in readme and "docs/deviations.md" in readme
