"""Students read the sources page (course/SOURCES.md), never the source documents themselves.

- The page ships in course/ and in the student bundle, names every document by author, title
  and year, and every exercise it points to exists.
- No notebook (solutions/ or course/), no page of course/ and no file of the library (students
  receive its source) cites a document by its internal file number ("seed 000", "seeds
  000/001", `answer_seed004_update`) or points to files students never get (ERRATA.md,
  shared/seeds). Seeds of random number generators ("seed=0", "seeds 0, 1, 2") are fine.
"""
from __future__ import annotations

import re
import sys

import pytest

from conftest import AUTOGRADER, COURSE, SOLUTIONS, notebook_text, read_notebook

SOURCES = COURSE / "SOURCES.md"

# A document's file number: "seed 000", "Seed 004's", "seeds 000/001", "seed004", "answer_seed002_x".
# Only the zero-padded 000-009 are document numbers: RNG seeds are written seed=0, seed 0, seeds 0, 1, 2.
_NUMBERED = r"(?<![a-z])seeds?[\s_#-]*00\d(?!\d)"
# An unpadded number used as a citation: "seed 4's", "seed 0, section 1.6", "seeds 0/1 eq. 3".
_SHORT = (r"(?<![a-z])seeds?\s+[0-4](?:\s*(?:/|,|and)\s*[0-4])*"
          r"(?:'s\b|,?\s*\(?(?:section|sec\.|eqs?\.|equation|§))")
# Files students never receive.
_UNSHIPPED = r"ERRATA\.md|shared/seeds|\.\./shared"
SEED_CITATION = re.compile(f"{_NUMBERED}|{_SHORT}|{_UNSHIPPED}", re.IGNORECASE)


def seed_citations(text: str) -> list[str]:
    """Every place in `text` that cites a source document by file number, with some context."""
    return [text[max(0, m.start() - 30):m.end() + 30].replace("\n", " ") for m in SEED_CITATION.finditer(text)]


@pytest.mark.parametrize("bad", [
    "as seed 000 writes in eq. 17", "Seed 004 prints the rule", "seeds 000/001 store W output-major",
    "(seed 003, eq. 8)", "seed004's update", "answer_seed000_delta = None", 'check_step("errata.seed004_update")',
    "def seed002_summary_as_written(a_hat):", "see ERRATA.md", "seed 4's weight decay", "seed 0, section 1.6",
    "seeds 0/1 eq. 3", "in ../shared/seeds/README.md",
])
def test_the_pattern_catches_citations_by_number(bad):
    assert seed_citations(bad), bad


@pytest.mark.parametrize("good", [
    "rng = np.random.default_rng(seed=0)", "98.6% for seeds 0, 1, 2 in 30 epochs", "(seed 0)",
    "print(f'seed {seed}: loss {loss:.3f}')", "seed 0: 0.123", "seed=2024", "reseeded 004 times",
    "Jin (2016), eq. 17", "Liao (2018), section 4.4", "seed_everything(0)", "seed 1004",
])
def test_the_pattern_leaves_random_seeds_alone(good):
    assert not seed_citations(good), good


def _notebooks():
    found = sorted(SOLUTIONS.glob("*/*.ipynb")) + sorted(COURSE.glob("*/*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def _cell_texts(cell):
    yield notebook_text(cell)
    for out in cell.get("outputs", []):
        text = out.get("text") or "".join(str(v) if isinstance(v, str) else "".join(v)
                                          for k, v in out.get("data", {}).items() if k.startswith("text/"))
        yield text if isinstance(text, str) else "".join(text)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: str(p.relative_to(p.parents[2])))
def test_notebooks_cite_documents_by_author_not_by_number(path):
    problems = []
    for cell in read_notebook(path)["cells"]:
        where = cell.get("id") or cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        problems += [f"cell {where}: ...{hit}..." for text in _cell_texts(cell) for hit in seed_citations(text)]
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        problems += [f"cell {where}: grade_id {grade_id!r}" for _ in seed_citations(grade_id)]
    assert not problems, (f"{path.name} cites a source by its file number (cite 'Jin (2016), eq. 17' and link "
                          f"../SOURCES.md instead):\n" + "\n".join(problems))


@pytest.mark.parametrize("path", sorted((COURSE / "lib" / "backprop").rglob("*.py")) + sorted(COURSE.glob("*.md")),
                         ids=lambda p: str(p.relative_to(COURSE)))
def test_library_and_pages_cite_documents_by_author_not_by_number(path):
    """Students receive the library's source: its messages, docstrings and comments are student-facing."""
    hits = [f"line {text.count(chr(10), 0, m.start()) + 1}: ...{m.group(0)}..."
            for text in [path.read_text()] for m in SEED_CITATION.finditer(text)]
    assert not hits, f"{path.relative_to(COURSE)} cites a source by its file number:\n" + "\n".join(hits)


DOCUMENTS = [  # author, title, year, anchor
    ("Xingyu Jin", "Tutorial of Back Propagation", "2016", "jin-2016"),
    ("Hao Huang", "Backpropagation for FC Neural Network", "2018", "huang-2018"),
    (None, "Backpropagation and Learning", None, "backpropagation-and-learning"),
    ("Tomomichi Sugihara", "Memo: Back-propagation", "2021", "sugihara-2021"),
    ("Wen Liao", "Assignment 4: BP", "2018", "liao-2018"),
]


def _anchors(page: str) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"', page))


def test_sources_page_names_every_document_by_author_title_and_year():
    page = SOURCES.read_text()
    for author, title, year, anchor in DOCUMENTS:
        line = next((l for l in page.splitlines() if f"*{title}*" in l and "|" in l), None)
        assert line, f"SOURCES.md: no row for *{title}* in the table of documents"
        for part in (author, year):
            assert part is None or part in line, f"SOURCES.md: the row of *{title}* lacks {part!r}"
        assert anchor in _anchors(page), f"SOURCES.md: no <a id=\"{anchor}\"> for *{title}*"
    assert "slips-the-course-checks" in _anchors(page)


def test_every_link_to_the_sources_page_lands_on_an_anchor():
    anchors = _anchors(SOURCES.read_text())
    bad = []
    for path in _notebooks():
        for cell in read_notebook(path)["cells"]:
            for target in re.findall(r"SOURCES\.md#([\w-]+)", notebook_text(cell)):
                if target not in anchors:
                    bad.append(f"{path.name} cell {cell.get('id')}: #{target}")
    assert not bad, f"links to anchors SOURCES.md does not define ({sorted(anchors)}):\n" + "\n".join(bad)


def _slip_rows(page: str) -> list[str]:
    section = page.split('<a id="slips-the-course-checks"></a>', 1)[1]
    return [l for l in section.splitlines() if l.startswith("| ") and not l.startswith(("| document", "|---"))]


def test_every_exercise_the_slip_list_names_exists():
    """'05 LeNet-5, Exercises 4 and 5' must name exercises that notebook 05 has (they get renumbered)."""
    rows = _slip_rows(SOURCES.read_text())
    assert len(rows) >= 12, "the list of slips the course checks looks truncated"
    missing = []
    for row in rows:
        for ref in row.rstrip(" |").rsplit("|", 1)[1].split(";"):
            m = re.match(r"\s*(0\d) [^,]*,\s*([^:]*)", re.sub(r"\([^)]*\)", "", ref))
            named = re.findall(r"(Exercises?|sections?)\s+((?:\d+[a-z]?(?:\s*(?:,|and)\s*)?)+)", m[2] if m else "")
            assert named, f"SOURCES.md: cannot read the reference {ref.strip()!r} (write '05 LeNet-5, Exercises 4 and 5')"
            notebook = next(iter(SOLUTIONS.glob(f"{m[1]}_*/*.ipynb")), None)
            assert notebook, f"SOURCES.md names notebook {m[1]}, which solutions/ does not have"
            text = "\n".join(notebook_text(c) for c in read_notebook(notebook)["cells"] if c["cell_type"] == "markdown")
            for kind, names in named:
                for name in re.findall(r"\b\d+[a-z]?\b", names):
                    pattern = rf"Exercise {name}\b" if kind.startswith("Exercise") else rf"^##\s+{name}\."
                    if not re.search(pattern, text, re.MULTILINE):
                        missing.append(f"{notebook.name}: {kind.rstrip('s')} {name} (row: {row[:60]}...)")
    assert not missing, "SOURCES.md points to exercises or sections that do not exist:\n" + "\n".join(missing)


def test_sources_page_is_in_the_student_bundle():
    sys.path.insert(0, str(AUTOGRADER))
    import student_bundle

    files = student_bundle.collect()
    assert files.get("SOURCES.md") == SOURCES, "the student bundle does not ship course/SOURCES.md"
    assert "SOURCES.md" in student_bundle.readme_text(files)
