"""Where the course runs: CPython on a computer, or Pyodide in a browser tab (the JupyterLite edition).

The notebooks are the same in both editions. What the browser needs differently is decided here,
by the library, never by a notebook:

- `IN_BROWSER`: True under Pyodide (CPython compiled to WebAssembly; `sys.platform == "emscripten"`).
- `progress_bar(**kwargs)`: tqdm's automatic bar (a widget in Jupyter). In the browser it runs
  without tqdm's monitor thread: a browser tab cannot start threads, and tqdm would say so on
  stderr, which nbgrader counts as a failed cell.

Nothing else differs: every notebook runs unchanged, 3.4-4.8x slower than CPython on the same
machine (notebook 05 trains LeNet-5 in under a minute; benchmarks/bench_lite.py). matplotlib's
font list, which Pyodide would rebuild in every new kernel, is prebuilt by lite/build.py and
shipped with the site.
"""
from __future__ import annotations

import sys

__all__ = ["IN_BROWSER", "progress_bar"]

IN_BROWSER = sys.platform == "emscripten"


def progress_bar(**kwargs):
    """A tqdm bar (tqdm.auto: a widget in Jupyter, text elsewhere); kwargs go to tqdm.

    In the browser tqdm's monitor thread is switched off before the bar is made (no threads there).
    """
    from tqdm.auto import tqdm

    if IN_BROWSER:
        tqdm.monitor_interval = 0
    return tqdm(**kwargs)

