"""The browser edition end to end: build the site, serve it on 127.0.0.1, drive it in headless Chromium.

One site is built for the module (lite/build.py, as `make lite` does) with two notebooks added to
its root folder: the solution of 00_gradient_checking, and a notebook made from the student
version of 00 that runs one exercise's visible check against a correct and then a wrong answer.
Chromium resolves no other host and every request to another host is aborted and recorded
(lite/browser.py): the tests assert that there was none.

The first build downloads Pyodide and the packages through npm and PyPI into build/lite-cache/
(once); afterwards it takes seconds. Skipped only when /usr/bin/chromium or playwright is absent.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from notebook_runner import execute

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("lite")]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
ASSIGNMENT = "00_gradient_checking"
CHECK_NOTEBOOK = "check_verdicts.ipynb"
TIMEOUT_S = 420


from lite import build as lite_build  # noqa: E402
from lite import browser as lite_browser  # noqa: E402


# ------------------------------------------------------------------------------ the check notebook
def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _wrong_answer_case():
    """(exercise id, old, new) of the first seeded mistake of tests/pipeline_cases/00 whose exercise
    has a visible check cell `check_<id>` in the student notebook."""
    import runpy
    cases = runpy.run_path(str(REPO / "tests" / "pipeline_cases" / f"{ASSIGNMENT}.py"))["CASES"]
    student = json.loads((REPO / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    visible = {_grade_id(c) for c in student["cells"]}
    for cell_id, old, new, _fails, _words in cases:
        if f"check_{cell_id}" in visible:
            return cell_id, old, new
    pytest.fail(f"no seeded mistake of {ASSIGNMENT} has a visible check cell")


def _check_notebook() -> tuple[dict, str]:
    """The student notebook's first code cell (imports), then: the solution, its visible check, the
    solution with a seeded mistake, the same check. Returns (notebook, exercise id)."""
    cell_id, old, new = _wrong_answer_case()
    student = json.loads((REPO / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    solution = json.loads((REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    imports = next(c for c in student["cells"] if c["cell_type"] == "code")
    answer = next(_source(c) for c in solution["cells"] if _grade_id(c) == cell_id)
    assert old in answer, f"the seeded mistake's text is not in the solution of {cell_id}"
    check = next(_source(c) for c in student["cells"] if _grade_id(c) == f"check_{cell_id}")

    def code(text, i):
        return {"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "source": text,
                "execution_count": None, "outputs": []}
    cells = [code(_source(imports), 0), code(answer, 1), code(check, 2), code(answer.replace(old, new), 3),
             code(check, 4)]
    nb = {**student, "cells": cells}
    return nb, cell_id


def _cpython_verdict(nb: dict) -> str:
    """The error the wrong answer's check raises on CPython (nbclient): what the browser must show."""
    node = execute(nb, timeout=120, allow_errors=True)
    errors = [o for o in node.cells[4].outputs if o.get("output_type") == "error"]
    assert errors, "on CPython the wrong answer passed its check: the test's seeded mistake is not a mistake"
    assert not [o for o in node.cells[2].outputs if o.get("output_type") == "error"], \
        "on CPython the correct answer failed its check"
    return errors[0]["evalue"].strip().splitlines()[0]


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def lite_site(tmp_path_factory):
    if not lite_browser.CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (make browser-deps installs it)")
    pytest.importorskip("playwright.sync_api")
    import shutil
    missing = [tool for tool in ("npm", "node") if shutil.which(tool) is None]
    if missing and not (REPO / "build" / "lite-cache").is_dir():
        pytest.skip(f"building the site needs Node.js ({', '.join(missing)} not found) on the first run")
    tmp = tmp_path_factory.mktemp("lite")
    nb, cell_id = _check_notebook()
    (tmp / CHECK_NOTEBOOK).write_text(json.dumps(nb, indent=1))
    solution = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    try:
        lite_build.build(tmp / "site", REPO / "build" / "lite-cache", REPO / "build" / "lite-venv",
                         REPO / "course", [solution, tmp / CHECK_NOTEBOOK], offline=False)
    except lite_build.BuildError as error:
        pytest.fail(f"the site was not built: {error}")
    with lite_browser.serve(tmp / "site") as served, lite_browser.LiteBrowser(served.base, TIMEOUT_S) as browser:
        yield {"browser": browser, "check": nb, "exercise": cell_id}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def _image_digest(img):
    data = img.evaluate("""async el => Array.from(new Uint8Array(await (await fetch(el.src)).arrayBuffer()))""")
    return hash(bytes(data)), len(data)


# ------------------------------------------------------------------------------ tests
def test_notebook_00_runs_to_the_end_and_its_explorer_redraws(lite_site):
    browser = lite_site["browser"]
    page = browser.page
    kernel = browser.open_notebook(f"{ASSIGNMENT}.ipynb")
    seconds = browser.run_all()
    print(f"notebook {ASSIGNMENT} in the browser: kernel {kernel:.1f} s, cells {seconds:.1f} s")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lite_notebook_00.png"))
    errors = browser.errors()
    assert not errors, "a cell failed or wrote to stderr in the browser:\n" + "\n---\n".join(errors)
    prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    assert prompts and all(re.search(r"\[\d+\]", p) for p in prompts), "not every cell ran"

    cell = browser.scroll_to_cell("_explorer(")     # cells far out of view are not rendered
    box = cell.locator(".jp-OutputArea-output .widget-vbox").filter(has=page.locator(".noUi-handle")).first
    box.locator("img").first.wait_for(state="visible", timeout=60_000)
    box = box.element_handle()          # the cell stops being 'active' once the slider has the focus
    img, handle = box.query_selector("img"), box.query_selector(".noUi-handle")
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img, timeout=60_000)
    before, size = _image_digest(img)
    readout_before = box.query_selector_all(".widget-html-content")[-1].inner_text()
    src_before = img.get_attribute("src")
    handle.scroll_into_view_if_needed()    # drag the handle 40 px to the left (keys go to the notebook)
    where = handle.bounding_box()
    y = where["y"] + where["height"] / 2
    page.mouse.move(where["x"] + where["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(where["x"] - 40, y, steps=5)
    page.mouse.up()
    page.wait_for_function("([el, src]) => el.src !== src && el.complete && el.naturalWidth > 0",
                           arg=[img, src_before], timeout=60_000)
    after, size_after = _image_digest(img)
    box.screenshot(path=str(ARTIFACTS / "lite_explorer_after.png"))
    assert size > 1000 and size_after > 1000, "the explorer's plot is not a real image"
    assert after != before, "moving the slider did not change the plot"
    assert box.query_selector_all(".widget-html-content")[-1].inner_text() != readout_before, "the readout did not change"
    assert not browser.errors(), "moving the slider wrote an error"
    assert browser.remote_requests == [], f"the site asked other hosts: {browser.remote_requests[:5]}"


def test_the_toolbar_download_button_saves_the_notebook_with_its_outputs_and_grading_metadata(lite_site):
    """What a student hands in: the notebook as the browser has it, outputs and nbgrader cell ids kept."""
    browser = lite_site["browser"]
    page = browser.page
    if f"{ASSIGNMENT}.ipynb" not in page.url:      # run alone: open and run the notebook first
        browser.open_notebook(f"{ASSIGNMENT}.ipynb")
        browser.run_all()
    browser.command("docmanager:save")
    with page.expect_download(timeout=60_000) as download:
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_text("Download", exact=True).click()
    assert download.value.suggested_filename == f"{ASSIGNMENT}.ipynb"
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    original = json.loads((REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    assert [_grade_id(c) for c in saved["cells"]] == [_grade_id(c) for c in original["cells"]]
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), "the download lost execution counts"
    assert sum(bool(c["outputs"]) for c in code) >= len(code) // 2, "the download lost the outputs"

    # the work persists in the browser: a new visit shows the saved notebook, not the site's copy
    in_site = sum(bool(c.get("outputs")) for c in original["cells"] if c["cell_type"] == "code")
    browser.open_notebook(f"{ASSIGNMENT}.ipynb")
    shown = sum(bool(text.strip()) for text in browser.outputs())
    assert shown >= len(code) // 2 and shown > in_site, \
        "after a reload the notebook's outputs are gone: the work was not kept in the browser"


def test_a_check_cell_gives_its_verdict_on_a_right_and_a_wrong_answer(lite_site):
    browser, nb = lite_site["browser"], lite_site["check"]
    verdict = _cpython_verdict(nb)
    browser.open_notebook(CHECK_NOTEBOOK)
    browser.run_all()
    outputs = browser.outputs()
    browser.page.screenshot(path=str(ARTIFACTS / "lite_check_verdicts.png"), full_page=True)
    assert len(outputs) == 5, f"expected the 5 cells of {CHECK_NOTEBOOK}, saw {len(outputs)}"
    errors = browser.cell_errors()
    right, wrong = outputs[2], outputs[4]
    assert right.strip(), "the check of the correct answer printed nothing"
    assert not any(errors[:4]), f"the check failed the correct {lite_site['exercise']}:\n{errors}"
    assert errors[4], f"the check accepted the wrong {lite_site['exercise']}:\n{wrong}"
    assert verdict in wrong, f"the browser's verdict differs from CPython's ({verdict!r}):\n{wrong}"
    assert browser.remote_requests == [], f"the site asked other hosts: {browser.remote_requests[:5]}"
