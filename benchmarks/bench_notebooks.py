"""Run time of every notebook as a student meets it: top to bottom in a fresh kernel.

    python benchmarks/bench_notebooks.py                     every solutions/ notebook, idle and loaded
    python benchmarks/bench_notebooks.py --only 05 06        some notebooks
    python benchmarks/bench_notebooks.py --cells 12          also the 12 slowest cells
    python benchmarks/bench_notebooks.py --autograde         also `make autograde JOBS=1` on one submission

Each instructor notebook of solutions/ runs through nbclient in a new kernel started in its
folder, like "Restart Kernel and Run All Cells": the time includes starting the kernel and
importing the libraries. Two passes:
  - idle: nothing else started by the benchmark (other users of the machine are not stopped:
    the load average is printed);
  - loaded: a CPU-bound process (a Python busy loop) started by the benchmark keeps one core
    busy for the whole pass, and is stopped afterwards.
The kernels get the environment of a student: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
MKL_NUM_THREADS are removed (`make test` and `make autograde` set them to 1), so BLAS starts
with one thread per core unless the course limits it.

Goals (issue 12): each notebook under 15 s and all of them under 60 s, on 2 cores with one
busy; one whole submission autograded (every notebook, --jobs 1) in under 40 s on the idle
machine. With --autograde the autograding row comes from bench_autograde's helpers (a
temporary course copy; a first, uncounted run creates the gradebook).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _table import print_table  # noqa: E402

GOAL_EACH, GOAL_ALL, GOAL_AUTOGRADE = 15.0, 60.0, 40.0
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def notebooks(only=()) -> list[Path]:
    found = sorted(p for p in (REPO / "solutions").glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return [p for p in found if not only or any(p.parent.name.startswith(o) for o in only)]


def run_notebook(path: Path) -> dict:
    """Execute one notebook in a fresh kernel; seconds in total, for the kernel, per code cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    cells, error = [], None
    start = time.perf_counter()
    with client.setup_kernel(stderr=subprocess.DEVNULL):
        kernel = time.perf_counter() - start
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                error = f"cell {cell.get('id', index)}: {str(exc).strip().splitlines()[-1][:120]}"
                break
            finally:
                cells.append((cell.get("id", str(index)), time.perf_counter() - t))
    total = time.perf_counter() - start
    return {"total": total, "kernel": kernel, "cells": cells, "error": error}


class BusyCore:
    """A CPU-bound process (a busy loop) for the duration of a `with` block."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run_pass(paths, label: str) -> dict:
    results = {}
    for path in paths:
        print(f"  {label}: {path.parent.name} ...", end=" ", flush=True)
        results[path.parent.name] = r = run_notebook(path)
        print(f"{r['total']:.1f} s" + (f"  ERROR {r['error']}" if r["error"] else ""), flush=True)
    return results


def autograde_seconds() -> tuple[float, str]:
    """`autograde.py --jobs 1` on one submission of every notebook (bench_autograde's course copy)."""
    import bench_autograde as ba

    assignments = [p.parent.name for p in notebooks()]
    with tempfile.TemporaryDirectory() as tmp:
        root = ba.make_course(Path(tmp) / "course")
        ba.submit(root, ["warmup"], assignments)
        ba.autograde(root, 1)                    # creates the gradebook; not counted
        ba.submit(root, ["student"], assignments)
        seconds, table = ba.autograde(root, 1)
    return seconds, ba.full_marks(table)


def _fmt(seconds: float, goal: float) -> str:
    return f"{seconds:.1f}" + ("" if seconds < goal else " (over)")


def print_results(idle: dict, loaded: dict | None) -> None:
    rows = []
    for name, r in idle.items():
        first = r["cells"][0][1] if r["cells"] else 0.0
        slowest = max(r["cells"], key=lambda c: c[1]) if r["cells"] else ("-", 0.0)
        row = [name, f"{r['kernel']:.1f}", f"{first:.1f}", f"{slowest[0]} {slowest[1]:.1f}", _fmt(r["total"], GOAL_EACH)]
        if loaded is not None:
            row.append(_fmt(loaded[name]["total"], GOAL_EACH))
        rows.append(row + [r["error"] or loaded and loaded[name]["error"] or ""])
    totals = [sum(r["total"] for r in idle.values())] + ([sum(r["total"] for r in loaded.values())] if loaded else [])
    rows.append(["all", "", "", "", *[_fmt(t, GOAL_ALL) for t in totals], ""])
    header = ["notebook", "kernel s", "first cell s", "slowest cell (id s)", "idle s"]
    header += ["loaded s"] if loaded is not None else []
    print_table(f"solution notebooks top to bottom, fresh kernel each, wall seconds on {os.cpu_count()} cores "
                f"(goals: each < {GOAL_EACH:.0f} s, all < {GOAL_ALL:.0f} s; loaded = one core kept busy)",
                header + ["error"], rows)


def print_slowest_cells(idle: dict, loaded: dict | None, count: int) -> None:
    cells = [(r_name, cid, secs) for r_name, r in idle.items() for cid, secs in r["cells"]]
    cells.sort(key=lambda c: -c[2])
    rows = []
    for name, cid, secs in cells[:count]:
        row = [name, cid, f"{secs:.2f}"]
        if loaded is not None:
            row.append(f"{dict(loaded[name]['cells']).get(cid, float('nan')):.2f}")
        rows.append(row)
    print_table(f"the {count} slowest cells", ["notebook", "cell id", "idle s"] + (["loaded s"] if loaded else []), rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=(), help="notebook folder prefixes, e.g. 05 06")
    parser.add_argument("--cells", type=int, default=int(os.environ.get("BENCH_CELLS", "10")),
                        help="print the N slowest cells (0: none)")
    parser.add_argument("--no-loaded", action="store_true", help="skip the pass with a busy core")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle pass")
    parser.add_argument("--one-thread", action="store_true",
                        help="start the kernels with OPENBLAS_NUM_THREADS=1 (as if every cell ran in one_blas_thread): "
                             "compare with a default run to find the cells that need it")
    parser.add_argument("--autograde", action="store_true", default=os.environ.get("BENCH_AUTOGRADE") == "1",
                        help="also time autograding one whole submission with --jobs 1 (about 2 minutes)")
    args = parser.parse_args([] if argv is None else argv)
    for var in THREAD_VARIABLES:
        os.environ.pop(var, None)
    if args.one_thread:
        os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    paths = notebooks(args.only)
    if not paths:
        print("bench_notebooks: no notebooks in solutions/")
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    idle = None if args.no_idle else run_pass(paths, "idle")
    loaded = None
    if not args.no_loaded:
        with BusyCore():
            loaded = run_pass(paths, "loaded")
    if idle is None:
        idle, loaded = loaded, None
        print("(no idle pass: the 'idle s' column below is the LOADED pass)")
    print_results(idle, loaded)
    if args.cells:
        print_slowest_cells(idle, loaded, args.cells)
    if args.autograde:
        seconds, marks = autograde_seconds()
        print_table("autograding one submission (every notebook), autograde.py --jobs 1, idle",
                    ["what", "seconds", "goal", "full marks"],
                    [[f"1 student, {len(notebooks())} notebooks", f"{seconds:.1f}", f"< {GOAL_AUTOGRADE:.0f}", marks]])
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
