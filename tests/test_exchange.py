"""The JupyterHub route of the README, with real Unix accounts and nbgrader's exchange.

An instructor and two students are created (useradd), each with a private home, plus an exchange
folder open to all and a system-wide nbgrader configuration (course id, exchange root; given here
through JUPYTER_CONFIG_PATH instead of /etc/jupyter). Every command runs as its user
(`runuser -u NAME --`), in the order the README gives:

    instructor  make release; nbgrader release_assignment 02_batched_mlp
    students    nbgrader fetch_assignment 02_batched_mlp; nbgrader submit 02_batched_mlp
                (alice submits the blank notebook, then the solution; bob the blank notebook)
    instructor  nbgrader collect 02_batched_mlp; make autograde; make feedback;
                nbgrader release_feedback 02_batched_mlp; make grades
    students    nbgrader fetch_feedback 02_batched_mlp

Then: alice has full marks (her second submission was graded), bob zero; each student fetched
their own feedback and cannot read the other's, nor list the exchange's inbound or feedback folder.

The course's environment must be usable by every user. The test builds one from a Python
interpreter the new users can run (this one, or the system's of the same version) and a .pth
file that points at this environment's packages. Users, homes and folders are removed at the
end, also on failure. Needs root (useradd, runuser); skipped otherwise.
"""
from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import AUTOGRADER, REPO, SOLUTIONS, read_notebook

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-exchange")]

ASSIGNMENT = "02_batched_mlp"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
TOOLS = ("useradd", "userdel", "runuser")


def require_root():
    if os.geteuid() != 0:
        pytest.skip("creating Unix users needs root")
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not available")
    if not (SOLUTIONS / ASSIGNMENT / NOTEBOOK).exists():
        pytest.skip(f"no solutions/{ASSIGNMENT}")


class Site:
    """The machine as a JupyterHub would have it: users, an exchange, a shared environment."""

    def __init__(self, work: Path):
        self.work = work
        tag = secrets.token_hex(3)
        self.instructor, self.alice, self.bob = f"bpi{tag}", f"bpa{tag}", f"bpb{tag}"
        self.users = []
        self.env = work / "env"
        self.etc = work / "etc" / "jupyter"
        self.exchange = work / "exchange"
        self.course = work / "course"
        self.log = []                      # (user, command, CompletedProcess), in order
        self.ld_path = ""                  # LD_LIBRARY_PATH for a relocated interpreter

    def home(self, user: str) -> Path:
        return self.work / "home" / user

    def add_user(self, user: str) -> None:
        subprocess.run(["useradd", "--create-home", "--home-dir", str(self.home(user)), "--shell", "/bin/sh", user],
                       check=True, capture_output=True, text=True)
        self.users.append(user)
        os.chmod(self.home(user), 0o700)   # private homes, as the README asks

    def run(self, user: str, *cmd: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
        env = [f"HOME={self.home(user)}", f"USER={user}", f"LOGNAME={user}", "LANG=C.UTF-8",
               f"PATH={self.env / 'bin'}:/usr/local/bin:/usr/bin:/bin", f"JUPYTER_CONFIG_PATH={self.etc}"]
        env += [f"LD_LIBRARY_PATH={self.ld_path}"] if self.ld_path else []
        run = subprocess.run(["runuser", "-u", user, "--", "env", "-i", *env, *cmd], cwd=str(cwd),
                             capture_output=True, text=True, timeout=timeout)
        self.log.append((user, " ".join(cmd), run))
        return run

    def step(self, user: str, *cmd: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
        run = self.run(user, *cmd, cwd=cwd, timeout=timeout)
        if run.returncode != 0:
            raise AssertionError(f"as {user} in {cwd}: {' '.join(cmd)} failed ({run.returncode}):\n"
                                 f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        return run

    def cleanup(self) -> None:
        for user in self.users:
            pids = subprocess.run(["ps", "-o", "pid=", "-u", user], capture_output=True, text=True).stdout.split()
            for pid in pids:               # kernels or servers left behind by a failed step
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["userdel", "--force", "--remove", user], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def shared_python(site: Site) -> str | None:
    """This Python, runnable by the new users. Root's interpreter may sit in a private home
    (/root/.pyenv): then its interpreter, libpython and standard library are hard-linked (copied
    across file systems) into the work folder, readable by all."""
    exe = os.path.realpath(sys.executable)
    if site.run(site.instructor, exe, "-c", "import venv", cwd=site.work).returncode == 0:
        return exe
    base, name = Path(sys.base_prefix), "python%d.%d" % sys.version_info[:2]
    dest = site.work / "python"
    (dest / "bin").mkdir(parents=True)
    link_or_copy(exe, dest / "bin" / name)
    (dest / "lib").mkdir()
    for lib in base.glob("lib/libpython*.so*"):
        if lib.is_symlink():
            os.symlink(os.readlink(lib), dest / "lib" / lib.name)
        else:
            link_or_copy(lib, dest / "lib" / lib.name)
    shutil.copytree(base / "lib" / name, dest / "lib" / name, copy_function=link_or_copy, symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "test", "idlelib", "tkinter", "turtledemo"))
    site.ld_path = str(dest / "lib")       # the interpreter looks for libpython in root's folder first
    exe = str(dest / "bin" / name)
    return exe if site.run(site.instructor, exe, "-c", "import venv", cwd=site.work).returncode == 0 else None


def build_env(site: Site, python: str) -> None:
    """A venv of `python` whose site-packages and share/ are this environment's (symbolic links), with the
    nbgrader, alembic and jupyter commands: the course "installed in every user's environment"."""
    import site as pysite

    subprocess.run([python, "-m", "venv", "--without-pip", str(site.env)], check=True, capture_output=True,
                   env=dict(os.environ, LD_LIBRARY_PATH=site.ld_path))
    ours = next(p for p in pysite.getsitepackages() if os.path.isdir(p))
    target = next(site.env.glob("lib/python*/site-packages"))
    target.rmdir()
    target.symlink_to(ours)
    (site.env / "share").symlink_to(Path(sys.prefix) / "share")   # nbconvert's templates, kernel specs
    for name in ("nbgrader", "alembic", "jupyter"):
        source = Path(sys.executable).parent / name
        if source.exists():
            body = source.read_text().split("\n", 1)[1]
            (site.env / "bin" / name).write_text(f"#!{site.env / 'bin' / 'python'}\n{body}")
            os.chmod(site.env / "bin" / name, 0o755)


def build_course(site: Site) -> None:
    """The instructor's checkout: Makefile, pyproject.toml, autograder/, one assignment in solutions/."""
    course = site.course
    shutil.copytree(SOLUTIONS / ASSIGNMENT, course / "solutions" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (course / "autograder").mkdir()
    for script in AUTOGRADER.glob("*.py"):
        shutil.copy2(script, course / "autograder" / script.name)
    (course / "course").mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO / name, course / name)
    (site.env / ".installed").touch()       # make's setup stamp: the environment is installed
    subprocess.run(["chown", "-R", f"{site.instructor}:", str(course)], check=True)


def prepare(site: Site) -> None:
    site.work.chmod(0o755)
    (site.work / "home").mkdir(mode=0o755)
    for user in (site.instructor, site.alice, site.bob):
        site.add_user(user)
    python = shared_python(site)
    if python is None:
        pytest.skip(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that other users can run")
    build_env(site, python)
    site.etc.mkdir(parents=True)
    (site.etc / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'backprop'\n"
        f"c.Exchange.root = {str(site.exchange)!r}\n")
    site.exchange.mkdir()
    site.exchange.chmod(0o777)             # README: readable and writable by all users
    share = site.work / "share"
    share.mkdir(mode=0o755)
    shutil.copy2(SOLUTIONS / ASSIGNMENT / NOTEBOOK, share / NOTEBOOK)
    os.chmod(share / NOTEBOOK, 0o644)
    build_course(site)


def workflow(site: Site) -> dict:
    inst, course, ag = site.instructor, site.course, site.course / "autograder"
    make = ("make", f"VENV={site.env}")
    site.step(inst, *make, "release", cwd=course)
    site.step(inst, "nbgrader", "release_assignment", ASSIGNMENT, cwd=ag)
    for student in (site.alice, site.bob):
        site.step(student, "nbgrader", "fetch_assignment", ASSIGNMENT, cwd=site.home(student))
        site.step(student, "nbgrader", "submit", ASSIGNMENT, cwd=site.home(student))
    site.step(site.alice, "cp", str(site.work / "share" / NOTEBOOK), f"{ASSIGNMENT}/{NOTEBOOK}",
              cwd=site.home(site.alice))
    site.step(site.alice, "nbgrader", "submit", ASSIGNMENT, cwd=site.home(site.alice))   # her second submission
    site.step(inst, "nbgrader", "collect", ASSIGNMENT, cwd=ag)
    site.step(inst, "python", "-c", "import matplotlib.pyplot", cwd=course)   # README: font caches, once
    grade = site.step(inst, *make, "autograde", "JOBS=2", cwd=course)
    site.step(inst, *make, "feedback", cwd=course)
    site.step(inst, "nbgrader", "release_feedback", ASSIGNMENT, cwd=ag)
    for student in (site.alice, site.bob):
        site.step(student, "nbgrader", "fetch_feedback", ASSIGNMENT, cwd=site.home(student))
    site.step(inst, *make, "grades", cwd=course)
    return dict(autograde=grade)


@pytest.fixture(scope="module")
def hub():
    require_root()
    site = Site(Path(tempfile.mkdtemp(prefix="backprop-exchange-")))
    try:
        prepare(site)
        failure = None
        try:
            results = workflow(site)
        except AssertionError as exc:     # reported by the tests, after the clean-up below is scheduled
            failure, results = str(exc), {}
        yield site, results, failure
    finally:
        site.cleanup()


def passed(hub):
    site, results, failure = hub
    if failure:
        pytest.fail(failure)
    return site, results


def max_points() -> float:
    nb = read_notebook(SOLUTIONS / ASSIGNMENT / NOTEBOOK)
    return sum(float(c["metadata"]["nbgrader"].get("points", 0)) for c in nb["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade"))


def test_latest_submission_graded_full_marks_and_blank_zero(hub):
    site, _ = passed(hub)
    with open(site.course / "autograder" / "grades_by_student.csv") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {site.alice, site.bob}
    assert max_points() > 0
    assert float(rows[site.alice][ASSIGNMENT]) == pytest.approx(max_points())
    assert float(rows[site.bob][ASSIGNMENT]) == 0
    submitted = site.course / "autograder" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted([site.alice, site.bob])


def test_autograde_shows_progress_and_nothing_per_kernel(hub):
    site, results = passed(hub)
    run = results["autograde"]
    assert "2/2" in run.stdout and "2 submissions graded, 0 failed" in run.stdout, run.stdout[-2000:]
    assert "Kernel is running over TCP" not in run.stdout + run.stderr
    assert "NOTE:" not in run.stdout, run.stdout[-2000:]


def fetched_feedback(site: Site, student: str) -> list[Path]:
    return sorted((site.home(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))


def test_each_student_fetches_only_their_own_feedback(hub):
    site, _ = passed(hub)
    alice, bob = fetched_feedback(site, site.alice), fetched_feedback(site, site.bob)
    assert len(alice) == 1 and len(bob) == 1, (alice, bob)
    released = site.course / "autograder" / "feedback"
    assert alice[0].read_text() == (released / site.alice / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert bob[0].read_text() == (released / site.bob / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    score = {who: re.search(r"\(Score: ([\d.]+) / ([\d.]+)\)", path.read_text()) for who, path in
             (("alice", alice[0]), ("bob", bob[0]))}
    assert float(score["alice"][1]) == float(score["alice"][2]) == pytest.approx(max_points())
    assert float(score["bob"][1]) == 0


def test_students_cannot_read_each_others_feedback_or_submissions(hub):
    site, _ = passed(hub)
    exchange = site.exchange / "backprop"
    for me, other in ((site.alice, site.bob), (site.bob, site.alice)):
        theirs = fetched_feedback(site, other)[0]
        assert site.run(me, "cat", str(theirs), cwd=site.home(me)).returncode != 0, f"{me} read {theirs}"
        for folder in ("feedback", "inbound"):
            listing = site.run(me, "ls", str(exchange / folder), cwd=site.home(me))
            assert listing.returncode != 0 and "ermission denied" in listing.stderr, (me, folder, listing.stdout)
        mine = site.run(me, "cat", str(fetched_feedback(site, me)[0]), cwd=site.home(me))
        assert mine.returncode == 0 and mine.stdout
