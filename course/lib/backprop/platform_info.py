"""Where the course runs: CPython on a computer, or Pyodide in a browser tab (the JupyterLite edition).

The notebooks are the same in both editions. What the browser needs differently is decided here,
by the library, never by a notebook:

- `IN_BROWSER`: True under Pyodide (CPython compiled to WebAssembly; `sys.platform == "emscripten"`).
- `progress_bar(**kwargs)`: tqdm's automatic bar (a widget in Jupyter). In the browser it runs
  without tqdm's monitor thread: a browser tab cannot start threads, and tqdm would say so on
  stderr, which nbgrader counts as a failed cell.
- `cpu_budget()`: how many times slower than CPython on a laptop a computation runs here (1 on
  CPython; about 4 in the browser, measured by benchmarks/bench_lite.py), for code that sizes a
  demonstration to the machine.

(matplotlib's font list, which Pyodide would otherwise rebuild in every new kernel, is prebuilt by
lite/build.py and shipped with the site; nothing is needed here for it.)
"""
from __future__ import annotations

import sys

__all__ = ["IN_BROWSER", "progress_bar", "cpu_budget"]

IN_BROWSER = sys.platform == "emscripten"

# Measured (benchmarks/bench_lite.py): numerical code in Pyodide 0.27 in Chromium runs 3-6x slower
# than CPython with OpenBLAS on the same machine.
BROWSER_SLOWDOWN = 4.0


def progress_bar(**kwargs):
    """A tqdm bar (tqdm.auto: a widget in Jupyter, text elsewhere); kwargs go to tqdm.

    In the browser tqdm's monitor thread is switched off before the bar is made (no threads there).
    """
    from tqdm.auto import tqdm

    if IN_BROWSER:
        tqdm.monitor_interval = 0
    return tqdm(**kwargs)


def cpu_budget() -> float:
    """1.0 on CPython; BROWSER_SLOWDOWN in the browser."""
    return BROWSER_SLOWDOWN if IN_BROWSER else 1.0
