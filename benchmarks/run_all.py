"""Run every benchmarks/bench_*.py (each has a main() that prints its table).

    python benchmarks/run_all.py              all of them (`make bench`)
    python benchmarks/run_all.py conv rnn     the files whose name contains one of the words

Options of single benchmarks come from the environment, e.g. bench_notebooks (every notebook
as a student runs it, idle and with a busy core): BENCH_AUTOGRADE=1 adds the time of autograding
one whole submission, BENCH_CELLS=N the N slowest cells; bench_autograde: BENCH_CLASS, JOBS.
"""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names=None) -> None:
    sys.path.insert(0, str(HERE))
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        modules = [m for m in modules if any(n in m for n in names)]
    for name in modules:
        start = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(name).main()
        print(f"({name} took {time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
