"""Build what students receive: the released notebooks, the `backprop` package and a README.

    python autograder/student_bundle.py                       -> student-bundle.zip (and student-bundle/)
    python autograder/student_bundle.py --out /tmp/b.zip      -> /tmp/b.zip (and /tmp/b/)

Layout inside the archive (one top folder, `backprop-course/`):

    README.md            for students: install, open, work, submit
    SOURCES.md           the source documents the notebooks cite, and their slips (from course/)
    pyproject.toml       installs `backprop` (pip install -e .) with the packages the notebooks need
    lib/backprop/        the package (reference implementation, gradient checker, checks)
    00_gradient_checking/00_gradient_checking.ipynb, 01_mlp/..., ...   from course/ (the release)

Only course/ is read: solutions/, autograder/, tests/ and benchmarks/ are never looked at, and
the bundle is checked before it is written (no solution or hidden-test marker, no notebook with
outputs, no gradebook, nothing from the instructor folders). The archive is reproducible: the
same inputs give the same bytes (fixed timestamps, sorted entries).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markers import HIDDEN, SOLUTION, cell_source, secret_lines  # noqa: E402
from release import student_cell_problems  # noqa: E402  (the same check as the release's)

REPO = Path(__file__).resolve().parent.parent
TOP = "backprop-course"
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", "feedback"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".db", ".log"}
INSTRUCTOR_ONLY = ("solutions", "autograder", "tests", "benchmarks", ".ci")
NOT_FOR_STUDENTS = {"nbgrader", "pytest"}   # dependencies of the instructor side only

README = """\
# Backpropagation, derived and checked: your course folder

This folder holds the course notebooks and `backprop`, the small library they build on.

## Setting up (once)

You need Python {python} or newer. In a terminal, inside this folder:

```bash
python -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -e .                   # installs backprop and what the notebooks need
jupyter lab
```

(With conda: `conda create -n backprop python=3.11`, `conda activate backprop`, then the same
`pip install -e .` and `jupyter lab`.)

No Python at hand (a Chromebook, a locked lab machine)? If your instructor publishes the browser
edition of the course, open its address in a current browser instead: the same notebooks run
there with nothing to install, your work is kept in the browser, and the **Download** button in
the notebook's toolbar (or File > Download) saves the notebook you submit.

The source documents the notebooks cite (Jin (2016), Liao (2018), ...) are listed in
`SOURCES.md`, with the slips of theirs that the course checks.

## Working through the course

Start with `00_gradient_checking`, then follow the numbers. Every exercise has the same rhythm:
read the derivation, write your code where it says `# YOUR CODE HERE` (delete the
`raise NotImplementedError()` line), run the check cell below it, and read its table: it says
which gradient is wrong and why: a mistake students often make is named ("Recognised mistake:
..."), otherwise what kind of mistake it is (transposed, wrong sign, off by the batch size, ...)
and where it enters.

- Run the notebook from the top (Kernel > Restart Kernel and Run All Cells) before you submit:
  that is how it is graded.
- Do not rename the notebook files, and do not edit or delete the test cells (they are locked;
  the grader restores them anyway and runs its own copy).
- The graded tests also run on inputs you do not see: a function that only works for the shapes
  of the visible check does not get full marks.
- The library's own backward functions (and the checks' reference answers) are switched off while
  your work is graded: calling them from your code earns no credit. Where an exercise may use one,
  its notebook says so.
- Keep your code quick: a cell that runs for minutes is stopped and scores 0.

## Submitting

Submit each notebook (`NN_name/NN_name.ipynb`) unchanged in name, as your instructor asks
(through JupyterHub's Assignments tab or by upload). Your feedback comes back as a web page
showing your notebook with the score and diagnosis of every test.

## What is in here

{listing}
"""


def _included(path: Path, base: Path) -> bool:
    rel = path.relative_to(base)
    return (path.is_file() and not (set(rel.parts) & SKIP_PARTS) and path.suffix not in SKIP_SUFFIXES
            and not any(p.endswith(".egg-info") for p in rel.parts))


def collect(root: Path = REPO) -> dict[str, Path]:
    """Archive name (relative to the top folder) -> source file, from course/ only."""
    course = Path(root) / "course"
    files = {}
    for folder in sorted(p for p in course.iterdir() if p.is_dir()):
        if folder.name == "lib":
            for f in sorted((folder / "backprop").rglob("*")):
                if _included(f, folder):
                    files[str(Path("lib") / f.relative_to(folder))] = f
        elif not folder.name.startswith(".") and any(folder.glob("*.ipynb")):
            for f in sorted(folder.rglob("*")):
                if _included(f, course):
                    files[str(f.relative_to(course))] = f
    for f in sorted(course.glob("*.md")):   # pages beside the notebooks, e.g. SOURCES.md
        files[f.name] = f
    return files


def pyproject_text(root: Path = REPO) -> str:
    """A pyproject.toml for the bundle: the package from lib/ and the course's runtime dependencies."""
    import tomllib

    meta = tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]
    deps = [d for d in meta.get("dependencies", [])
            if re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() not in NOT_FOR_STUDENTS]
    lines = ["[build-system]", 'requires = ["setuptools>=68", "wheel"]', 'build-backend = "setuptools.build_meta"', "",
             "[project]", f'name = "{meta["name"]}"', f'version = "{meta["version"]}"',
             f'description = "{meta.get("description", "")}"',
             f'requires-python = "{meta.get("requires-python", ">=3.10")}"', "dependencies = ["]
    lines += [f'    "{d}",' for d in deps] + ["]", "", "[tool.setuptools.packages.find]", 'where = ["lib"]', ""]
    return "\n".join(lines)


def readme_text(files: dict, root: Path = REPO) -> str:
    import tomllib

    python = tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"].get("requires-python", ">=3.10")
    notebooks = sorted(n for n in files if n.endswith(".ipynb"))
    pages = sorted(n for n in files if "/" not in n and n.endswith(".md"))
    listing = ("\n".join(f"- `{n}`" for n in notebooks + pages)
               + "\n- `lib/backprop/`: the library\n")
    return README.format(python=python.lstrip(">="), listing=listing)


def problems_in(contents: dict[str, bytes], root: Path = REPO) -> list[str]:
    """Everything that must not reach students, found in the bundle's files (name -> bytes)."""
    root = Path(root)
    problems = []
    solution_texts, sources = set(), []
    for nb_path in sorted((root / "solutions").glob("*/*.ipynb")) if (root / "solutions").is_dir() else []:
        raw = nb_path.read_text()
        solution_texts.add(raw)
        sources += [cell_source(cell) for cell in json.loads(raw)["cells"]]
    # a line that the instructor notebooks also show outside these blocks is not a secret
    hidden_lines = secret_lines(sources, HIDDEN, min_length=16)
    solution_lines = secret_lines(sources, SOLUTION, min_length=26)
    for name, data in sorted(contents.items()):
        parts = Path(name).parts
        if parts and parts[0] in INSTRUCTOR_ONLY:
            problems.append(f"{name}: from an instructor folder")
        if name.endswith((".db", ".sqlite")) or "gradebook" in name:
            problems.append(f"{name}: a gradebook")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text in solution_texts:
            problems.append(f"{name}: identical to an instructor notebook in solutions/")
        if not name.endswith(".ipynb"):
            continue
        nb = json.loads(text)
        for i, cell in enumerate(nb.get("cells", [])):
            problems += student_cell_problems(cell, f"{name} cell {i}")
            lines = {l.strip() for l in cell_source(cell).splitlines()}
            leaked = sorted((lines & hidden_lines))
            if leaked:
                problems.append(f"{name} cell {i}: hidden test line {leaked[0]!r}")
            if cell.get("cell_type") == "code":
                given = sorted(lines & solution_lines)
                if given:
                    problems.append(f"{name} cell {i}: solution line {given[0]!r}")
    return problems


def build(out: Path, root: Path = REPO, folder: bool = True) -> tuple[Path, list[str]]:
    """Write the archive `out` (and the unpacked folder next to it); return (out, problems).
    Nothing is written when problems are found."""
    root, out = Path(root), Path(out)
    files = collect(root)
    contents = {name: path.read_bytes() for name, path in files.items()}
    contents["pyproject.toml"] = pyproject_text(root).encode()
    contents["README.md"] = readme_text(files, root).encode()
    if not any(n.endswith(".ipynb") for n in contents):
        return out, ["no released notebooks in course/: run `make release` first"]
    problems = problems_in(contents, root)
    if problems:
        return out, problems
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(contents):
            info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, contents[name])
    if folder:
        target = out.with_suffix("")
        if target.exists():
            shutil.rmtree(target)
        with zipfile.ZipFile(out) as zf:
            zf.extractall(target)
    return out, []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(REPO / "student-bundle.zip"), help="archive to write")
    parser.add_argument("--root", default=str(REPO), help="course root (the repository)")
    parser.add_argument("--no-folder", action="store_true", help="write only the archive")
    args = parser.parse_args(argv)
    out, problems = build(Path(args.out), Path(args.root), folder=not args.no_folder)
    for p in problems:
        print("PROBLEM:", p)
    if problems:
        print("student bundle NOT written")
        return 1
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    print(f"wrote {out} ({len(names)} files, {sum(n.endswith('.ipynb') for n in names)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
