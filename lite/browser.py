"""Drive a built JupyterLite site in headless Chromium: the browser tests and the benchmark use this.

    with serve(site) as served, LiteBrowser(served.base) as browser:
        run = browser.run_notebook("00_gradient_checking/00_gradient_checking.ipynb")
        run.errors, run.kernel_seconds, run.run_seconds

The site is served by Python's http.server on 127.0.0.1 only. Chromium (Debian's /usr/bin/chromium,
never a browser that playwright downloads) resolves no other host name, and every request to
another host is aborted and recorded in `browser.remote_requests`: a site that needs the network
shows up there. The page's jupyter-lite.json is served with `exposeAppInBrowser` on, so that the
driver can call JupyterLab's commands (window.jupyterapp); the site itself is not changed.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                      ".json": "application/json", ".whl": "application/octet-stream"}
    served = None   # a Served, set per server

    def log_message(self, *args):  # the tests' output stays readable
        pass

    def copyfile(self, source, outputfile):
        before = source.tell()
        super().copyfile(source, outputfile)
        with self.served.lock:
            self.served.bytes += source.tell() - before
            self.served.requests += 1


@dataclass
class Served:
    """A site served on 127.0.0.1: its base URL (ends with '/') and what it has sent so far."""

    base: str = ""
    bytes: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def serve(site: Path):
    """Serve `site` on a free port of 127.0.0.1 in a thread; yields a Served."""
    served = Served()
    handler = functools.partial(type("Handler", (_QuietHandler,), {"served": served}), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    served.base = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, name="lite-http", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class NotebookRun:
    """What running one notebook in the page showed."""

    path: str
    kernel_seconds: float            # from opening the notebook to the kernel's first 'Idle'
    run_seconds: float               # from 'run all' to every cell done
    errors: list = field(default_factory=list)      # texts of error and stderr outputs
    outputs: list = field(default_factory=list)     # per code cell: its output text


# In the page: the kernel reports Idle in the status bar; no code cell of the current notebook is
# queued or running, and every one has an execution count (or one failed: 'run all' stops there).
_IDLE_JS = """() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem, .jp-StatusBar-Item'))
                 .some(e => /\\|\\s*Idle\\b/.test(e.textContent))"""
_ALL_RAN_JS = """() => {
    const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    if (!nb) return false;
    const prompts = Array.from(nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
    if (prompts.length === 0 || prompts.some(p => /\\[\\*\\]/.test(p.textContent))) return false;
    const failed = nb.querySelector("[data-mime-type='application/vnd.jupyter.error']");
    return failed !== null || prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
_OUTPUTS_JS = """() => {
    const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    return Array.from(nb.querySelectorAll('.jp-CodeCell')).map(c => {
        const area = c.querySelector('.jp-OutputArea');
        return area ? area.innerText : '';
    });
}"""
_CELL_ERRORS_JS = """() => {
    const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    return Array.from(nb.querySelectorAll('.jp-CodeCell')).map(c => Array.from(c.querySelectorAll(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], " +
        ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")).map(e => e.innerText));
}"""


class LiteBrowser:
    """Headless Chromium on a served site; one page, notebooks opened one after another."""

    def __init__(self, base: str, timeout_s: float = 600, viewport=(1400, 1000)):
        self.base, self.timeout_ms, self.viewport = base, int(timeout_s * 1000), viewport
        self.remote_requests: list[str] = []
        self.console_errors: list[str] = []
        self.not_found: list[str] = []   # URLs of this site that answered 404
        self._pw = self._browser = self.page = None

    def __enter__(self):
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = self._browser.new_context(viewport={"width": self.viewport[0], "height": self.viewport[1]},
                                            accept_downloads=True)
        context.route("**/*", self._route)
        self.page = context.new_page()
        self.page.set_default_timeout(self.timeout_ms)
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        context.on("response", lambda r: r.status == 404 and self.not_found.append(r.url))
        return self

    def __exit__(self, *exc):
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._pw is not None:
                self._pw.stop()

    def _route(self, route):
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL_HOSTS:
            self.remote_requests.append(route.request.url)
            return route.abort()
        if url.path == "/jupyter-lite.json":
            response = route.fetch()
            config = json.loads(response.text())
            config["jupyter-config-data"]["exposeAppInBrowser"] = True
            return route.fulfill(response=response, body=json.dumps(config))
        return route.continue_()

    # -------------------------------------------------------------------------- notebooks
    def open_notebook(self, path: str) -> float:
        """Open `path` (relative to the site's files) in JupyterLab; returns seconds until its kernel is idle."""
        start = time.perf_counter()
        self.page.goto(f"{self.base}lab/index.html?path={path}")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell")
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands")
        self.page.wait_for_function(_IDLE_JS)
        return time.perf_counter() - start

    def command(self, name: str, args: dict | None = None):
        return self.page.evaluate("([name, args]) => window.jupyterapp.commands.execute(name, args)",
                                  [name, args or {}])

    def run_all(self) -> float:
        """Run every cell of the open notebook and wait for all of them; returns the seconds taken."""
        start = time.perf_counter()
        self.command("notebook:run-all-cells")
        self.page.wait_for_function(_ALL_RAN_JS)
        self.page.wait_for_function(_IDLE_JS)
        return time.perf_counter() - start

    def outputs(self) -> list[str]:
        return self.page.evaluate(_OUTPUTS_JS)

    def cell_errors(self) -> list[list[str]]:
        """Per code cell of the open notebook: the texts of its error and stderr outputs."""
        return self.page.evaluate(_CELL_ERRORS_JS)

    def errors(self) -> list[str]:
        """Every error and stderr output of the open notebook."""
        return [text for cell in self.cell_errors() for text in cell]

    def scroll_to_cell(self, text: str):
        """Make the first code cell whose source contains `text` the active one and scroll it into
        view (JupyterLab does not render cells far outside the view); returns its locator."""
        index = self.page.evaluate("""async text => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            const i = nb.widgets.findIndex(c => c.model.type === 'code' && c.model.sharedModel.getSource().includes(text));
            if (i < 0) return i;
            nb.activeCellIndex = i;
            await nb.scrollToItem(i, 'center');
            return i;
        }""", text)
        if index < 0:
            raise LookupError(f"no code cell of the open notebook contains {text!r}")
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell.jp-mod-active")

    def run_notebook(self, path: str) -> NotebookRun:
        kernel = self.open_notebook(path)
        seconds = self.run_all()
        return NotebookRun(path, kernel, seconds, self.errors(), self.outputs())

    def close_all(self) -> None:
        """Close every document (their kernels stop with them), discarding unsaved changes."""
        self.command("application:close-all")
        with contextlib.suppress(Exception):
            self.page.get_by_role("button", name="Discard").click(timeout=2000)
