"""Outputs that quote a hidden test are scrubbed before anyone reads them.

Student code can print the source of the cell that calls it (through the frame's code object and
linecache), so the text of a hidden test could reach the outputs of the autograded notebook and,
from there, the feedback or the Gradescope results. `scrub_hidden_outputs` replaces every such
output line; `ScrubHiddenOutputs` runs it as a feedback preprocessor (before the hidden tests are
cut from the sources, which it needs to know what to look for).
"""
from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor

from markers import HIDDEN, cell_source, secret_lines

SCRUBBED = "[grader: output line removed: it quotes a hidden test]"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def scrub_text(text, secrets: set[str]) -> tuple[str, int]:
    """`text` (a string or a list of strings) with every line that contains one of `secrets`
    replaced by SCRUBBED (ANSI colours are ignored when comparing); returns (text, lines removed)."""
    joined = text if isinstance(text, str) else "".join(text)
    keep, removed = [], 0
    for line in joined.split("\n"):
        bare = ANSI.sub("", line)
        if any(s in bare for s in secrets):
            removed += 1
            keep.append(SCRUBBED)
        else:
            keep.append(line)
    return "\n".join(keep), removed


def hidden_secrets(nb, min_length: int = 12) -> set[str]:
    """The hidden-test lines of the notebook's code cells that no visible line repeats, plus the markers."""
    sources = [cell_source(c) for c in nb.cells if c.cell_type == "code"]
    secrets = secret_lines(sources, HIDDEN, min_length)
    return secrets | {f"### BEGIN {HIDDEN}", f"### END {HIDDEN}"} if secrets else set()


def scrub_hidden_outputs(nb, min_length: int = 12) -> int:
    """Remove from every output of the notebook each line that quotes a hidden-test line.

    Lines of the hidden blocks that also appear outside them (a visible call repeated in the
    hidden part) are not secret and stay. Returns the number of lines removed."""
    secrets = hidden_secrets(nb, min_length)
    if not secrets:
        return 0
    removed = 0

    def clean(text):
        nonlocal removed
        text, n = scrub_text(text, secrets)
        removed += n
        return text

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = clean(out.get("text", ""))
            elif out.get("output_type") == "error":
                out["evalue"] = clean(out.get("evalue", ""))
                out["traceback"] = [clean(t) for t in out.get("traceback", [])]
            elif "data" in out:
                for mime in list(out["data"]):
                    if (mime.startswith("text/") or mime == "application/json") \
                            and isinstance(out["data"][mime], (str, list)):
                        out["data"][mime] = clean(out["data"][mime])
    return removed


class ScrubHiddenOutputs(Preprocessor):
    """Feedback: every output line that quotes a hidden test is replaced (scrub_hidden_outputs).
    Must run before the hidden tests are removed from the sources."""

    enabled = True

    def preprocess(self, nb, resources):
        scrub_hidden_outputs(nb)
        return nb, resources
