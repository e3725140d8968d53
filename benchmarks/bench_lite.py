"""The browser edition against CPython: every solution notebook, run to the end in both.

Builds the JupyterLite site (lite/build.py, the same as `make lite`) into a temporary folder with
the seven solution notebooks added, serves it on 127.0.0.1 and runs each notebook in headless
Chromium (Pyodide kernel), then runs the same notebooks with this virtualenv's CPython kernel
(nbclient). Prints one row per notebook: the browser's kernel start and run time beside CPython's,
and whether any cell wrote an error or to stderr. Also: the site's size and what the first visit
downloads (the page and a started kernel; then the packages the first notebook imports).

Each browser notebook is opened in a fresh page (its own kernel); the HTTP cache is warm after the
first one, as for a student. Times are wall clock on whatever else the machine is doing.

Run: .venv/bin/python benchmarks/bench_lite.py [NN ...]     (about 8 minutes; needs /usr/bin/chromium)
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.append(str(REPO))   # the package lite/

from _table import print_table  # noqa: E402


from lite import build as lite_build  # noqa: E402
from lite import browser as lite_browser  # noqa: E402

BROWSER_TIMEOUT_S = 900


def solution_notebooks(only=()) -> list[Path]:
    paths = sorted((REPO / "solutions").glob("[0-9]*/*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    return [p for p in paths if not only or any(p.stem.startswith(o) for o in only)]


def run_cpython(path: Path) -> tuple[float, int]:
    """Seconds to run the notebook with a fresh CPython kernel (kernel start included), error count."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        failed = 0
    except CellExecutionError:
        failed = 1
    seconds = time.perf_counter() - start
    stderr = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if o.get("output_type") == "error" or o.get("name") == "stderr")
    return seconds, failed + stderr


def run_browser(site: Path, notebooks: list[Path]) -> tuple[list, dict]:
    """Each notebook in a fresh page of one browser; returns (runs, first-visit traffic)."""
    runs, traffic = [], {}
    with lite_browser.serve(site) as served, lite_browser.LiteBrowser(served.base, BROWSER_TIMEOUT_S) as browser:
        for i, path in enumerate(notebooks):
            before = served.bytes
            kernel = browser.open_notebook(path.name)
            if i == 0:
                traffic["page and kernel"] = served.bytes - before
            seconds = browser.run_all()
            if i == 0:
                traffic["first notebook's imports"] = served.bytes - before - traffic["page and kernel"]
            runs.append(lite_browser.NotebookRun(path.name, kernel, seconds, browser.errors()))
            print(f"  browser {path.stem}: kernel {kernel:.1f} s, run {seconds:.1f} s, "
                  f"{len(runs[-1].errors)} error/stderr outputs", flush=True)
        traffic["remote requests"] = len(browser.remote_requests)
    return runs, traffic


def main(only=()) -> None:
    if not lite_browser.CHROMIUM.exists():
        print("bench_lite: /usr/bin/chromium is missing (make browser-deps installs it); skipped")
        return
    notebooks = solution_notebooks(only)
    with tempfile.TemporaryDirectory(prefix="bench-lite-") as tmp:
        info = lite_build.build(Path(tmp) / "site", REPO / "build" / "lite-cache", REPO / "build" / "lite-venv",
                                REPO / "course", notebooks, offline=False)
        print(f"site: {info['size'] / 1e6:.1f} MB ({info['pyodide_size'] / 1e6:.1f} MB Pyodide and packages), "
              f"built in {info['seconds']:.0f} s", flush=True)
        runs, traffic = run_browser(Path(tmp) / "site", notebooks)
    rows = []
    for path, run in zip(notebooks, runs):
        cpython, cpython_errors = run_cpython(path)
        print(f"  CPython {path.stem}: {cpython:.1f} s", flush=True)
        rows.append([path.stem, f"{run.kernel_seconds:.1f}", f"{run.run_seconds:.1f}", f"{cpython:.1f}",
                     f"{run.run_seconds / cpython:.1f}x", f"{len(run.errors)} / {cpython_errors}"])
    print_table("Solution notebooks, browser (Pyodide 0.27.7 in headless Chromium) vs CPython (nbclient, kernel start included)",
                ["notebook", "browser kernel start s", "browser run s", "CPython s", "browser/CPython",
                 "error+stderr outputs browser / CPython"], rows)
    print_table("First visit (cold browser cache), bytes served by 127.0.0.1",
                ["what", "MB"], [[k, f"{v / 1e6:.1f}"] for k, v in traffic.items() if k != "remote requests"]
                + [["requests to other hosts (blocked)", traffic["remote requests"]]])


if __name__ == "__main__":
    main(tuple(sys.argv[1:]))
