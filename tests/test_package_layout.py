"""The package reads top-down: no import cycle, no top-level name hiding a submodule, no module
importing another's private names, and `import backprop` leaves the heavy libraries unloaded."""
from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import backprop

PACKAGE_DIR = Path(backprop.__file__).resolve().parent
HEAVY = ("sympy", "matplotlib", "sklearn", "ipywidgets")


def _modules() -> dict[str, Path]:
    """'backprop.x.y' -> source path, for the package and every module below it."""
    found = {"backprop": PACKAGE_DIR / "__init__.py"}
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="backprop."):
        spec = importlib.util.find_spec(info.name)
        found[info.name] = Path(spec.origin)
    return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _top_level_imports(tree):
    """Import statements executed when the module is imported (not those inside functions)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(node, field, []) or [])
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(node.body)


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _edges(module: str, path: Path, modules: dict) -> set[str]:
    """The backprop modules that `module` imports at import time."""
    package = _package_of(module, path)
    out = set()
    for node in _top_level_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _resolve(node, package)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target in modules and target != module:
                # `from . import x` imports x (a module), not the package's __init__ again
                if target == package and isinstance(node, ast.ImportFrom) and node.module is None:
                    continue
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _edges(name, path, modules) for name, path in modules.items()}


def _cycle(graph):
    """One import cycle as a list of module names, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_import_walk_sees_the_package():
    graph = _graph()
    assert "backprop.gradcheck" in graph["backprop"]
    assert "backprop.diagnosis" in graph["backprop.gradcheck"]
    assert "backprop.derivation_types" in graph["backprop.derivation_steps"]


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_a_submodule_importing_the_package_back_is_a_cycle(tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text("import numpy\nfrom . import conv\nfrom .rules import agrees\nimport backprop\n"
                    "def later():\n    from . import grading\n")
    modules = {"backprop": None, "backprop.conv": None, "backprop.rules": None, "backprop.grading": None,
               "backprop.fake": fake}
    edges = _edges("backprop.fake", fake, modules)
    assert edges == {"backprop", "backprop.conv", "backprop.rules"}  # not grading: imported when called
    assert _cycle({"backprop": {"backprop.fake"}, "backprop.fake": edges}) == ["backprop", "backprop.fake", "backprop"]


def test_no_import_cycle_inside_backprop():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_derivation_catalogue_is_data_the_checker_reads():
    graph = _graph()
    assert "backprop.derivations" not in graph["backprop.derivation_steps"]
    assert "backprop.derivation_steps" in graph["backprop.derivations"]


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_imports_another_modules_private_names(module):
    modules = _modules()
    path = modules[module]
    package = _package_of(module, path)
    private = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("backprop")):
            source = _resolve(node, package)
            if source in modules and source != module:
                private += [f"{alias.name} from {source}" for alias in node.names
                            if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not private, f"{module} imports private names: {', '.join(private)}"


def test_no_top_level_name_hides_a_submodule():
    hidden = []
    for info in pkgutil.iter_modules(backprop.__path__):
        module = importlib.import_module(f"backprop.{info.name}")
        if getattr(backprop, info.name) is not module:
            hidden.append(f"backprop.{info.name} is {getattr(backprop, info.name)!r}, not the module")
    assert not hidden, "; ".join(hidden)


def test_train_is_the_module_and_the_trainer_is_importable_from_it():
    from backprop.train import History, train

    module = importlib.import_module("backprop.train")
    assert backprop.train is module and module.train is train
    assert not callable(backprop.train)  # a module, not a function in disguise
    assert History is backprop.History


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_backprop_leaves_heavy_libraries_unloaded():
    loaded = _run("import json, sys; import backprop; "
                  f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert loaded == [], f"`import backprop` imports {loaded}; load them when a function needs them"


def test_lazy_names_load_on_first_use():
    result = _run("import json, sys; import backprop; before = 'sympy' in sys.modules; "
                  "ok = bool(backprop.check_step('mlp.dE_dy.half', 'y - t')); "
                  "print(json.dumps([before, ok, 'sympy' in sys.modules, 'check_step' in dir(backprop)]))")
    assert result == [False, True, True, True]


def test_unknown_top_level_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        backprop.no_such_name  # noqa: B018
