"""Run a Gradescope autograder zip locally and print what the student would see.

    make gradescope-check SUBMISSION=path/to/02_batched_mlp.ipynb
    python autograder/gradescope/check.py SUBMISSION [--zip Z] [--timeout S] [--json] [--keep]

SUBMISSION is a notebook or a folder of notebooks. The zip defaults to
autograder/dist/gradescope/<notebook name>.zip when there is one, else course.zip. The zip is
unpacked into a temporary folder laid out like Gradescope's /autograder (source/, submission/,
results/, run_autograder), and its run_autograder runs with AUTOGRADER_ROOT pointing there and
this Python instead of the environment setup.sh would make (setup.sh is not run).
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DIST = REPO / "autograder" / "dist" / "gradescope"
sys.path.insert(0, str(HERE.parent))

from gradescope.report import as_text  # noqa: E402


def unpack(zip_path: Path, root: Path) -> Path:
    """Lay out `root` like Gradescope's /autograder from an autograder zip; return root."""
    (root / "source").mkdir(parents=True)  # `root` itself may exist already
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / name, 0o755)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def submit(root: Path, submission: Path) -> None:
    """Put a notebook (or a folder's contents) where Gradescope puts the student's upload."""
    if submission.is_dir():
        shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
    else:
        shutil.copy2(submission, root / "submission" / submission.name)


def run(root: Path, timeout: int | None = None, python: str = sys.executable, limit: float = 3600,
        env: dict | None = None) -> tuple[dict, float, str]:
    """Run root/run_autograder (environment: this one, plus `env`); return (results.json, seconds,
    its stdout and stderr)."""
    env = dict(os.environ, **(env or {}), AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    if timeout:
        env["AUTOGRADER_CELL_TIMEOUT"] = str(timeout)
    start = time.perf_counter()
    proc = _run_executable(root / "run_autograder", cwd=str(root), env=env, timeout=limit)
    seconds = time.perf_counter() - start
    return json.loads((root / "results" / "results.json").read_text()), seconds, proc.stdout + proc.stderr


def _run_executable(path: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run a freshly written script. While another thread of this process forks, the child briefly
    holds the script's write handle and exec fails with ETXTBSY ("Text file busy"): wait and retry."""
    for attempt in range(1, 6):
        try:
            return subprocess.run([str(path)], capture_output=True, text=True, **kwargs)
        except OSError as err:
            if err.errno != errno.ETXTBSY or attempt == 5:
                raise
            time.sleep(0.2 * attempt)


def pick_zip(submission: Path) -> Path:
    own = DIST / f"{submission.stem}.zip"
    return own if submission.is_file() and own.exists() else DIST / "course.zip"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", help="a notebook, or a folder of notebooks")
    parser.add_argument("--zip", default=None, help="autograder zip (default: by the notebook's name)")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: the course's)")
    parser.add_argument("--python", default=sys.executable, help="the Python environment to grade with "
                        "(default: this one; e.g. the venv a dry run of setup.sh made)")
    parser.add_argument("--json", action="store_true", help="print results.json instead of the text view")
    parser.add_argument("--keep", action="store_true", help="keep the temporary autograder folder")
    parser.add_argument("--log", action="store_true", help="also print run_autograder's own output (instructors')")
    args = parser.parse_args(argv)
    submission = Path(args.submission).resolve()
    if not submission.exists():
        raise SystemExit(f"SUBMISSION {submission} does not exist")
    zip_path = Path(args.zip) if args.zip else pick_zip(submission)
    if not zip_path.exists():
        raise SystemExit(f"{zip_path} does not exist: run `make gradescope` first")
    root = Path(tempfile.mkdtemp(prefix="gradescope-check-"))
    try:
        submit(unpack(zip_path, root), submission)
        results, seconds, log = run(root, args.timeout, args.python)
        if args.log:
            print(log)
        print(json.dumps(results, indent=1) if args.json else as_text(results))
        print(f"[{zip_path.name}: run_autograder took {seconds:.1f} s]")
    finally:
        if args.keep:
            print(f"autograder folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
