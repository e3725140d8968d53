"""What a notebook (or the README) says the checker will say is what the checker says.

Every double-quoted phrase of three words or more, in a sentence of a solution notebook's markdown
(or of the README) that talks about the checker or a diagnosis, must appear in what the checks say
about the catalogued slips of backprop.checks (each slip is a mistake made on purpose; see
tests/test_checks_catalogue.py), or in a test of tests/ that asserts those words about a mistake it
makes. Ellipses ("...") in a quote stand for any text.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from backprop.checks.catalogue import run_catalogue
from conftest import REPO, notebook_text, read_notebook, solution_notebooks

TALKS_ABOUT_CHECKER = re.compile(r"checker|diagnos", re.I)
QUOTE = re.compile(r'"([^"\n]{10,}?)"')


def sentences(text: str):
    return re.split(r"(?<=[.!?])\s+(?=[A-Z*(])|\n\n", text)


def promises(text: str) -> list[str]:
    """Quoted phrases of checker sentences; table rows (documented behaviour, tested where they are
    implemented) are left out."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))
    found = []
    for sentence in sentences(text):
        sentence = re.sub(r"\s*\n\s*", " ", sentence)
        if TALKS_ABOUT_CHECKER.search(sentence):
            found += [q for q in QUOTE.findall(sentence) if len(q.split()) >= 3]
    return found


def all_promises() -> list[tuple[str, str]]:
    out = []
    for assignment, path in solution_notebooks():
        for cell in read_notebook(path)["cells"]:
            if cell["cell_type"] == "markdown":
                out += [(assignment, p) for p in promises(notebook_text(cell))]
    out += [("README", p) for p in promises((REPO / "README.md").read_text())]
    return out


@functools.lru_cache(maxsize=1)
def said() -> str:
    """What the checks say about every catalogued slip, and the words the tests assert."""
    tests = [p.read_text() for p in (REPO / "tests").glob("test_*.py") if p.name != Path(__file__).name]
    return "\n".join([o.message + "\n" + o.printed for o in run_catalogue()] + tests)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "").replace("`", "")).strip().lower()


PROMISES = all_promises()


@pytest.mark.parametrize("where, phrase", PROMISES, ids=[f"{w}:{p[:30]}" for w, p in PROMISES])
def test_promised_words_are_said(where, phrase):
    pieces = [normalise(piece) for piece in re.split(r"\.\.\.|…", phrase) if piece.strip(" .…")]
    text = normalise(said())
    pattern = ".*?".join(re.escape(piece.strip(" ,;:")) for piece in pieces)
    assert re.search(pattern, text, re.S), (
        f"{where} promises the checker says {phrase!r}, but no catalogued slip makes it say that. "
        "Add the slip to backprop.checks (with a test), or quote what the checker really says.")


def test_the_extractor_finds_promises():
    text = 'If it is wrong, the checker says "your dW is the transpose of the right answer". Also "not this one".'
    assert promises(text) == ["your dW is the transpose of the right answer"]
