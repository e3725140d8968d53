"""environment.yml (for conda users) and pyproject.toml must ask for the same packages and bounds."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _norm(req: str) -> tuple:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _environment_requirements():
    """(conda dependencies, pip dependencies) listed under `dependencies:` in environment.yml."""
    conda, pip = [], []
    section, in_pip = None, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not text.startswith((" ", "-")):
            section, in_pip = text.split(":", 1)[0], False
            continue
        if section != "dependencies":
            continue
        m = re.match(r"^(\s*)- (.+)$", text)
        if m is None:
            continue
        item, indent = m.group(2).strip(), len(m.group(1))
        if item == "pip:":
            in_pip = True
        elif in_pip and indent > 2:
            pip.append(item)
        else:
            in_pip = False
            conda.append(item)
    return conda, pip


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_norm(r) for r in project["dependencies"]}
    extras = {_norm(r) for r in project["optional-dependencies"]["test"]}
    conda, pip = _environment_requirements()
    conda_reqs = {_norm(r) for r in conda if not r.startswith(("python", "pip"))}
    pip_reqs = {_norm(r) for r in pip if not r.startswith("-e")}
    assert conda_reqs == runtime, f"environment.yml conda deps differ from pyproject: {conda_reqs ^ runtime}"
    assert pip_reqs == extras, f"environment.yml pip deps differ from pyproject [test] extra: {pip_reqs ^ extras}"
    python = [r for r in conda if r.startswith("python")]
    assert python == ["python" + project["requires-python"]]
    assert "-e ." in pip, "environment.yml must install the backprop package itself (pip: -e .)"


def test_required_packages_are_listed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_norm(r)[0] for r in project["dependencies"]}
    assert {"numpy", "matplotlib", "jupyterlab", "nbgrader", "ipywidgets", "pytest"} <= names
