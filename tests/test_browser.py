"""An explorer in a real JupyterLab, driven by headless Chromium through playwright.

The test starts JupyterLab from this virtualenv on a free local port, with a token and with
every user-level Jupyter/IPython directory pointed into a temporary directory (nothing of the
user's settings, kernels or extensions leaks in), news and update checks off. It opens a copy
of a course notebook that shows an explorer (or, while no course notebook has one, a small
notebook with all five), runs all cells, waits for the slider, moves it with the keyboard and
checks that the plotted image changed. A screenshot goes to tests/artifacts/.

Uses Debian's Chromium (/usr/bin/chromium, `make browser-deps` installs it); never
`playwright install`. Skipped only when that browser is absent.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
EXPLORER_NAMES = ["activation_explorer", "finite_difference_explorer", "gradient_flow_explorer",
                  "conv_shape_explorer", "rnn_gradient_explorer"]
TIMEOUT_MS = 120_000


# ------------------------------------------------------------------------------ the notebook
def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _course_notebook_with_explorer():
    """The first notebook under course/ (00 first) with a code cell that calls an explorer."""
    for path in sorted((ROOT / "course").glob("[0-9]*/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        if any(cell["cell_type"] == "code" and any(f"{name}(" in _source(cell) for name in EXPLORER_NAMES)
               for cell in nb["cells"]):
            return path
    return None


def _cell(source: str, kind: str = "code") -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _notebook(cells) -> dict:
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                         "language": "python"},
                         "language_info": {"name": "python"}}}


def _prepare_notebook(workdir: Path):
    """Write the notebook to open into workdir; return (file name, where it came from).

    From a course notebook, the copy keeps its markdown and the code cells that use an
    explorer, and drops the other code cells: a student version stops at its first unsolved
    exercise, and an explorer must work from `backprop` alone, before any exercise is solved.
    """
    source = _course_notebook_with_explorer()
    if source is not None:
        nb = json.loads(source.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"]
                 if c["cell_type"] == "markdown" or (c["cell_type"] == "code" and "explorer" in _source(c))]
        for c in cells:
            if c["cell_type"] == "code":
                c["outputs"], c["execution_count"] = [], None
        nb["cells"] = cells
        origin = str(source.relative_to(ROOT))
    else:
        cells = [_cell("# Explorers\nEvery explorer of `backprop.widgets`.", "markdown")]
        cells += [_cell(f"from backprop.widgets import {name}\n{name}()") for name in EXPLORER_NAMES]
        for i, cell in enumerate(cells):
            cell["id"] = f"cell-{i}"
        nb = _notebook(cells)
        origin = "a temporary notebook with the five explorers"
    (workdir / "explorers.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return "explorers.ipynb", origin


# ------------------------------------------------------------------------------ the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _isolated_env(tmp: Path) -> dict:
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")]:
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.pop("PYTHONSTARTUP", None)
    env["MPLBACKEND"] = "Agg"
    return env


def _start_lab(tmp: Path, notebook_dir: Path):
    """JupyterLab from this venv on a free port; returns (process, base url, token, log path)."""
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.fail(f"{jupyter} not found: run the tests with the course's virtualenv (make test)")
    app_settings = tmp / "app-settings"
    app_settings.mkdir()
    (app_settings / "overrides.json").write_text(json.dumps({
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    }))
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [str(jupyter), "lab", f"--port={port}", "--port-retries=0", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
           f"--ServerApp.root_dir={notebook_dir}",
           f"--LabApp.user_settings_dir={tmp / 'user-settings'}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           f"--LabApp.app_settings_dir={app_settings}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly",
           "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=notebook_dir, env=_isolated_env(tmp), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return proc, base, token, log
        except OSError:
            time.sleep(0.3)
    _stop_lab(proc, base, token)
    pytest.fail(f"JupyterLab did not answer on {base} within 120 s:\n{log.read_text()[-3000:]}")


def _stop_lab(proc, base, token):
    """Ask the server to shut down (it stops its kernels), then end it by its process id."""
    try:
        req = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                     headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(req, timeout=5).close()
    except OSError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ------------------------------------------------------------------------------ the page
def _wait_kernel_idle(page, timeout_ms=TIMEOUT_MS):
    """Wait for the status bar to read '... | Idle' (the execution indicator alone races)."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem, .jp-StatusBar-Item'))
                 .some(e => /\\|\\s*Idle\\b/.test(e.textContent))""",
        timeout=timeout_ms)


def _wait_all_cells_ran(page, timeout_ms=TIMEOUT_MS):
    """Wait until every code cell shows an execution count: [3], not [ ] or [*]."""
    page.wait_for_function(
        """() => {
            const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout_ms)


def _lab_setting(base, token, plugin):
    """The effective settings of a JupyterLab plugin, through the REST API: the schema's
    defaults (where overrides.json lands) updated with the user's settings."""
    req = urllib.request.Request(f"{base}/lab/api/settings/{plugin}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        reply = json.loads(r.read())
    effective = {key: prop.get("default") for key, prop in reply["schema"].get("properties", {}).items()}
    effective.update(reply.get("settings") or {})
    return effective


def _image_digest(img):
    """SHA-256 of the bytes behind an <img> (the Image widget's blob URL)."""
    data = img.evaluate("""async el => {
        const buf = await (await fetch(el.src)).arrayBuffer();
        return Array.from(new Uint8Array(buf));
    }""")
    return hashlib.sha256(bytes(data)).hexdigest(), len(data)


def test_explorer_slider_redraws_in_jupyterlab(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (make browser-deps installs it)")
    playwright_api = pytest.importorskip("playwright.sync_api")

    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    name, origin = _prepare_notebook(notebook_dir)
    print(f"browser test notebook: {origin}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    proc, base, token, log = _start_lab(tmp_path, notebook_dir)
    try:
        notification = _lab_setting(base, token, "@jupyterlab/apputils-extension:notification")
        assert notification.get("fetchNews") == "false" and notification.get("checkForUpdates") is False, \
            f"the overrides.json did not switch off news and update checks: {notification}"
        with playwright_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(f"{base}/lab/tree/{name}?token={token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
                page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands")
                _wait_kernel_idle(page)

                assert page.evaluate("() => window.jupyterapp.commands.hasCommand('notebook:run-all-cells')"), \
                    "JupyterLab has no command notebook:run-all-cells"
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                slider = page.locator(".jp-OutputArea-output .widget-slider .noUi-handle").first
                slider.wait_for(state="visible", timeout=TIMEOUT_MS)
                _wait_all_cells_ran(page)
                _wait_kernel_idle(page)

                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                                      ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
                assert errors.count() == 0, "a cell failed:\n" + "\n".join(errors.all_inner_texts())

                # the first explorer: its box holds the slider and the plot
                box = page.locator(".jp-OutputArea-output .widget-vbox").filter(
                    has=page.locator(".noUi-handle")).first
                img = box.locator("img").first
                img.wait_for(state="visible")
                page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
                before, size_before = _image_digest(img)
                readout_before = box.locator(".widget-html-content").last.inner_text()
                page.screenshot(path=str(ARTIFACTS / "browser_explorer_before.png"), full_page=False)

                slider.focus()
                for _ in range(5):
                    slider.press("ArrowRight")
                src_before = img.get_attribute("src")
                page.wait_for_function("([el, src]) => el.src !== src && el.complete && el.naturalWidth > 0",
                                       arg=[img.element_handle(), src_before], timeout=30_000)
                _wait_kernel_idle(page)
                after, size_after = _image_digest(img)
                readout_after = box.locator(".widget-html-content").last.inner_text()
                box.screenshot(path=str(ARTIFACTS / "browser_explorer_after.png"))

                assert size_before > 1000 and size_after > 1000, "the plot is not a real image"
                assert after != before, "moving the slider did not change the plot"
                assert readout_after != readout_before, "moving the slider did not change the readout"
                n_plots = page.locator(".jp-OutputArea-output .widget-vbox img").count()
                if not origin.endswith(".ipynb"):  # the temporary notebook shows all five
                    assert n_plots == len(EXPLORER_NAMES), f"expected {len(EXPLORER_NAMES)} explorers, saw {n_plots}"
                else:
                    assert n_plots >= 1
                page.screenshot(path=str(ARTIFACTS / "browser_explorer.png"), full_page=True)
            finally:
                browser.close()
    finally:
        _stop_lab(proc, base, token)
        shutil.copy(log, ARTIFACTS / "browser_jupyterlab.log")
    assert proc.returncode is not None

