"""Build Gradescope autograder zips: `make gradescope`.

    python autograder/gradescope/build.py                    every assignment, and course.zip
    python autograder/gradescope/build.py 02_batched_mlp     one assignment
    python autograder/gradescope/build.py --out DIR          elsewhere (default autograder/dist/gradescope)

Each zip has Gradescope's layout (setup.sh and run_autograder at its root) and carries what grading
needs, nothing else:

    setup.sh, run_autograder          from autograder/gradescope/ (Python version and paths filled in)
    requirements.txt                  the course's dependencies pinned to the versions installed here
    requirements-bounds.txt           pyproject.toml's bounds (setup.sh's fallback on another Python)
    course/pyproject.toml, course/lib/backprop/   the library, installed by setup.sh
    course/solutions/<assignment>/    the instructor notebook(s): hidden tests, points, locked cells
    course/autograder/                nbgrader_config.py, the sandbox, gradescope/grade.py and report.py

<assignment>.zip grades that assignment's notebook; course.zip grades a submission of every notebook
(one Gradescope assignment for the whole course). The zips are reproducible (fixed timestamps,
sorted entries).
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from course_tools import assignments  # noqa: E402
from gradescope.report import graded_cells  # noqa: E402

VENV = "/opt/backprop-grader"
COURSE_ZIP = "course"
SKIP = {"__pycache__", ".ipynb_checkpoints"}

LIB_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "backprop"
version = "{version}"
requires-python = "{python}"

[tool.setuptools.packages.find]
where = ["lib"]

[tool.setuptools.package-data]
backprop = ["data/*"]
"""


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def pinned_requirements(top: str = "backprop") -> list[str]:
    """`name==version` for every distribution `top` needs (transitively, extras left out), as
    installed in this environment: what the course is tested with."""
    from importlib import metadata

    from packaging.requirements import Requirement

    versions, todo = {}, [top]
    while todo:
        name = _canonical(todo.pop())
        if name in versions:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is needed by the course but not installed here: run `make setup`") from None
        versions[name] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    versions.pop(_canonical(top))
    return [f"{name}=={version}" for name, version in sorted(versions.items())]


def _tree(folder: Path, prefix: str) -> dict[str, Path]:
    return {f"{prefix}/{p.relative_to(folder).as_posix()}": p for p in sorted(folder.rglob("*"))
            if p.is_file() and not SKIP & set(p.relative_to(folder).parts) and p.suffix != ".pyc"}


def contents(names: list[str], root: Path = REPO) -> dict[str, bytes | Path]:
    """Archive name -> bytes or file, for a zip that grades the assignments `names`."""
    meta = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    fill = lambda text: text.replace("@PYTHON@", python).replace("@VENV@", VENV)  # noqa: E731
    files: dict[str, bytes | Path] = {
        "setup.sh": fill((HERE / "setup.sh").read_text()).encode(),
        "run_autograder": fill((HERE / "run_autograder").read_text()).encode(),
        "requirements.txt": ("\n".join(pinned_requirements()) + "\n").encode(),
        "requirements-bounds.txt": ("\n".join(meta["dependencies"]) + "\n").encode(),
        "course/pyproject.toml": LIB_PYPROJECT.format(version=meta["version"],
                                                      python=meta.get("requires-python", ">=3.10")).encode(),
    }
    files.update(_tree(root / "course" / "lib" / "backprop", "course/lib/backprop"))
    for name in names:
        files.update(_tree(root / "solutions" / name, f"course/solutions/{name}"))
    for script in sorted((root / "autograder").glob("*.py")):
        files[f"course/autograder/{script.name}"] = script
    for script in sorted(HERE.glob("*.py")):
        files[f"course/autograder/gradescope/{script.name}"] = script
    return files


def write_zip(out: Path, files: dict[str, bytes | Path]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            data = files[name] if isinstance(files[name], bytes) else files[name].read_bytes()
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out


def build(out_dir: Path, names: list[str] | None = None, whole_course: bool = True, root: Path = REPO) -> list[Path]:
    """Write <assignment>.zip for each of `names` (default: all) and course.zip; return the paths."""
    known = assignments(root)
    names = list(names or known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"no such assignment in solutions/: {', '.join(unknown)} (known: {', '.join(known)})")
    written = [write_zip(Path(out_dir) / f"{name}.zip", contents([name], root)) for name in names]
    if whole_course:
        written.append(write_zip(Path(out_dir) / f"{COURSE_ZIP}.zip", contents(known, root)))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment folders of solutions/ (default: all)")
    parser.add_argument("--out", default=str(REPO / "autograder" / "dist" / "gradescope"), help="output folder")
    parser.add_argument("--no-course", action="store_true", help="skip course.zip (every notebook in one)")
    args = parser.parse_args(argv)
    for path in build(Path(args.out), args.assignments, whole_course=not args.no_course):
        with zipfile.ZipFile(path) as zf:
            notebooks = [n for n in zf.namelist() if n.endswith(".ipynb")]
            total = sum(points for n in notebooks for _, points in graded_cells(json.loads(zf.read(n))))
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(notebooks)} notebook"
              f"{'s' if len(notebooks) != 1 else ''}, {total:g} points)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
