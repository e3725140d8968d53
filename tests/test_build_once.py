"""The test suite's own machinery: a heavy session resource is built once per run, even when
several pytest-xdist workers ask for it at the same time, and the run's folder goes away."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

WORKER = """
import json, sys, time
sys.path.insert(0, {tests!r})
from conftest import build_once

def build(folder):
    with open({log!r}, "a") as fh:
        fh.write("built\\n")
    time.sleep(1.0)                       # long enough for the other worker to arrive meanwhile
    (folder / "made.txt").write_text("x")
    return {{"folder": str(folder), "value": 42}}

print(json.dumps(build_once("demo", build)))
"""


def test_two_workers_build_once_and_share_the_result(tmp_path):
    log = tmp_path / "builds.log"
    env = dict(os.environ, BACKPROP_TEST_RUN_DIR=str(tmp_path / "run"))
    code = WORKER.format(tests=str(TESTS), log=str(log))
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert log.read_text().count("built") == 1
    assert results[0] == results[1] and results[0]["value"] == 42
    assert (Path(results[0]["folder"]) / "made.txt").exists()


def test_the_run_folder_is_removed_when_pytest_ends(tmp_path):
    (tmp_path / "test_probe.py").write_text(
        "import os\n"
        "def test_probe(request):\n"
        "    from conftest import build_once\n"
        "    assert request.config._backprop_run_dir.exists()  # made by conftest's pytest_configure\n"
        "    folder = build_once('probe', lambda f: str(f))\n"
        "    open(os.environ['PROBE_OUT'], 'w').write(folder)\n")
    out = tmp_path / "folder.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_TEST_RUN_DIR", "BACKPROP_KEEP_PIPELINE")}
    env["PROBE_OUT"] = str(out)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(TESTS),
                          "-p", "conftest", "-c", os.devnull, str(tmp_path / "test_probe.py")],
                         cwd=TESTS, env=dict(env, PYTHONPATH=str(TESTS)), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    folder = Path(out.read_text())
    assert folder.name == "probe" and folder.parent.name.startswith("backprop-tests-")
    assert not folder.parent.exists(), "the run's temporary folder outlived the run"


def test_xdist_workers_share_one_build(tmp_path):
    """Two tests in different xdist groups, so on different workers, ask for the same resource."""
    log = tmp_path / "builds.log"
    (tmp_path / "test_shared.py").write_text(
        "import os, time, pytest\n"
        "def build(folder):\n"
        "    open(os.environ['BUILD_LOG'], 'a').write(os.environ.get('PYTEST_XDIST_WORKER', '-') + '\\n')\n"
        "    time.sleep(1.5)\n"
        "    return 7\n"
        "@pytest.mark.xdist_group('one')\n"
        "def test_a():\n"
        "    from conftest import build_once\n"
        "    assert build_once('shared', build) == 7\n"
        "@pytest.mark.xdist_group('two')\n"
        "def test_b():\n"
        "    from conftest import build_once\n"
        "    assert build_once('shared', build) == 7\n")
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_TEST_RUN_DIR", "BACKPROP_KEEP_PIPELINE")}
    env.update(BUILD_LOG=str(log), PYTHONPATH=str(TESTS))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
                          "-c", os.devnull, "--rootdir", str(tmp_path), "-n", "2", "--dist", "loadgroup",
                          str(tmp_path / "test_shared.py")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 passed" in run.stdout
    assert len(log.read_text().split()) == 1, f"built by {log.read_text().split()}"
