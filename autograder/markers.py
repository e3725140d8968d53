"""nbgrader's marker lines, parsed in one place.

Instructor notebooks mark two kinds of block inside a cell:

    ### BEGIN SOLUTION ... ### END SOLUTION           (solution cells: replaced by a stub for students)
    ### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS   (graded cells: removed for students, run when grading)

Like nbgrader, a line that contains a marker's words is that marker (`autograder/release.py` keeps
markers on lines of their own). An unterminated block runs to the end of the cell, so nothing after
a BEGIN line is ever taken for public text. Used by the release lint, the student bundle check, the
sandbox (restored cells, output scrubbing), the feedback filter and the Gradescope report.
"""
from __future__ import annotations

from typing import Iterable

SOLUTION = "SOLUTION"
HIDDEN = "HIDDEN TESTS"
KINDS = (SOLUTION, HIDDEN)
# The marker lines as authors write them, and the words that must never reach students.
def marker(edge: str, kind: str) -> str:
    """The marker line, e.g. marker("BEGIN", HIDDEN) == "### BEGIN HIDDEN TESTS"."""
    return f"### {edge} {kind}"


MARKER_LINES = tuple(marker(edge, kind) for kind in KINDS for edge in ("BEGIN", "END"))
MARKER_WORDS = tuple(line[4:] for line in MARKER_LINES)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def cell_source(cell) -> str:
    """A cell's source as one string (notebook JSON may store it as a list of lines)."""
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def split_blocks(source: str, kind: str) -> tuple[list[str], list[list[str]]]:
    """(lines outside the blocks of `kind`, the lines of each block), marker lines dropped."""
    _check_kind(kind)
    begin, end = f"BEGIN {kind}", f"END {kind}"
    outside, blocks, inside = [], [], None
    for line in source.splitlines():
        if inside is None and begin in line:
            inside = []
        elif inside is not None and end in line:
            blocks.append(inside)
            inside = None
        elif inside is not None:
            inside.append(line)
        else:
            outside.append(line)
    if inside is not None:
        blocks.append(inside)
    return outside, blocks


def blocks(source: str, kind: str) -> list[str]:
    """The text of every block of `kind` in `source` (markers excluded)."""
    return ["\n".join(block) for block in split_blocks(source, kind)[1]]


def public_text(source: str, kinds: Iterable[str] = KINDS) -> str:
    """`source` without the blocks of the given kinds (and without their markers)."""
    for kind in kinds:
        source = "\n".join(split_blocks(source, kind)[0])
    return source


def visible_lines(source: str) -> list[str]:
    """A test cell as the student sees it: hidden blocks gone, blank lines and indentation ignored."""
    return [line.strip() for line in public_text(source, (HIDDEN,)).splitlines() if line.strip()]


def replace_blocks(source: str, kind: str, placeholder: str) -> str:
    """Every block of `kind` (markers included) becomes one `placeholder` line, indented like its BEGIN."""
    _check_kind(kind)
    begin, end = f"BEGIN {kind}", f"END {kind}"
    out, hiding, indent = [], False, ""
    for line in source.splitlines():
        if not hiding and begin in line:
            hiding, indent = True, line[: len(line) - len(line.lstrip())]
        elif hiding and end in line:
            hiding = False
            out.append(indent + placeholder)
        elif not hiding:
            out.append(line)
    if hiding:
        out.append(indent + placeholder)
    return "\n".join(out)


def secret_lines(sources: Iterable[str], kind: str = HIDDEN, min_length: int = 12) -> set[str]:
    """Stripped lines of at least `min_length` characters that occur only inside blocks of `kind`.

    A line that the same sources also show outside such blocks (a visible call repeated in the
    hidden part) is not a secret."""
    secret, public = set(), set()
    for source in sources:
        outside, found = split_blocks(source, kind)
        for block in found:
            secret |= {line.strip() for line in block if len(line.strip()) >= min_length}
        public |= {line.strip() for line in public_text(source).splitlines()}
    return secret - public


def has_markers(source: str) -> list[str]:
    """The marker words that occur in `source` (a student notebook must have none)."""
    return [word for word in MARKER_WORDS if word in source]
