"""Grading hostile notebooks: a kernel with resource limits and an Execute that survives it.

nbgrader runs each submission in a fresh kernel. These modules make that run robust:

1. This file is the kernel launcher. `LimitedKernelManager` (sandbox_kernel.py) starts every
   kernel as `python sandbox.py --memory-mb N --tmp DIR --read PATH ... [--user NAME] -- <kernel
   command>`; the launcher sets RLIMIT_AS (address space: a memory bomb gets MemoryError or dies,
   the machine is unharmed), RLIMIT_CORE = 0 (no core dumps) and RLIMIT_FSIZE (no disk-filling
   file); as root with --user it hands the kernel's private folder and connection file to that
   user and becomes them; where Linux offers Landlock (5.13+, no privileges needed) it lets the
   kernel read only Python, the installed packages, backprop and its own submission folder (not
   solutions/, the gradebook, other submissions or other kernels' connection files), write only to
   its private temporary folder, and not signal processes outside (the grader, other kernels);
   then it exec's the kernel. The launcher imports nothing beyond the standard library.
2. `GuardedExecute` (sandbox_execute.py), nbgrader's Execute preprocessor made to survive kernel
   deaths, timeouts the kernel ignores, tampering with the checker (the snippets of
   sandbox_guard.py restore it before every graded test cell), stderr in graded cells and floods
   of output.
3. `RestoreLockedCells` (sandbox_restore.py, sanitize step, in place of nbgrader's OverwriteCells):
   locked cells get their original source back, deleted graded cells are put back, and a restored
   test cell prints a note saying so.
4. `ScrubHiddenOutputs` (sandbox_scrub.py, feedback step, before the hidden tests are cut from
   the sources): every output line that quotes a hidden test is replaced.
5. `submission_problems` (below): a missing, renamed or damaged notebook, in words (autograde.py
   and the Gradescope grader report such a submission and grade the others).

Importing this module gives all of these names (nbgrader_config.py does
`from sandbox import GuardedExecute, RestoreLockedCells, ScrubHiddenOutputs`).

This hardens the grading of ordinary mistakes and ordinary cheating attempts. A student who
studies these files and attacks the kernel deliberately can still interfere with code running in
the same process; such submissions show up as failed guard checks or odd outputs in the
autograded notebooks, which an instructor should look at.
"""
from __future__ import annotations

import os
import sys

# --------------------------------------------------------------------------------------------
# The launcher: set limits, then exec the kernel
# --------------------------------------------------------------------------------------------

def apply_limits(memory_mb: int | None, file_mb: int | None = 512) -> None:
    """Limit this process (and what it exec's): address space, core dumps, file size."""
    import resource

    if memory_mb:
        limit = int(memory_mb) * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if file_mb:
        limit = int(file_mb) * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))


# Landlock (Linux >= 5.13, unprivileged): the kernel may read only the paths it is given and write
# only in its private temporary folder; with ABI >= 6 it cannot signal processes outside its domain
# (the grader, other students' kernels).
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_READ_FILE, _WRITE_FILE = 1 << 2, 1 << 1
_WRITE_ALL = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
_REFER, _TRUNCATE = 1 << 13, 1 << 14
_SCOPE_SIGNAL = 1 << 1


def landlock_abi() -> int:
    """Landlock ABI version of the running kernel (0: not available)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return max(0, int(libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))))
    except Exception:  # noqa: BLE001 - not Linux, no libc: no Landlock
        return 0


def restrict_filesystem(readable, writable) -> int:
    """Allow reading only below `readable` and writing only below `writable` (files or folders);
    block signals to processes outside. Returns the Landlock ABI used (0: not available, nothing done)."""
    import ctypes

    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    handled = _READ_FILE | _WRITE_ALL | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]

    attr = RulesetAttr(handled, 0, _SCOPE_SIGNAL if abi >= 6 else 0)
    size = ctypes.sizeof(RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0
    file_bits = _READ_FILE | _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0)
    try:
        for paths, allowed in ((readable, _READ_FILE), (writable, handled)):
            for path in paths:
                if not os.path.exists(path):
                    continue
                if not os.path.isdir(path):
                    allowed &= file_bits
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    rule = PathBeneath(allowed, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule({path})")
                finally:
                    os.close(fd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:   # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi



def drop_privileges(user: str, give: list[str]) -> None:
    """Become the Unix user `user` (the launcher must run as root): hand the paths `give` (the
    kernel's private folder, its connection file) to them, then drop groups, group and user ids.
    HOME, USER and LOGNAME follow; HOME is the first path of `give` (the private folder)."""
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise SystemExit(f"sandbox.py: --user {user}: no such user") from None
    if os.geteuid() != 0:
        raise SystemExit(f"sandbox.py: --user {user} needs root (the grader runs as uid {os.geteuid()})")
    for path in give:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ.update(HOME=give[0] if give else "/", USER=user, LOGNAME=user)


def _parse(argv: list[str]) -> tuple[dict, list[str]]:
    """Launcher options and the kernel command (what follows --)."""
    opts = {"memory_mb": None, "tmp": None, "read": [], "user": None}
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1] if len(argv) > 1 else None, argv[2:]
        key = flag[2:].replace("-", "_")
        if key not in opts or value is None:
            raise SystemExit(f"sandbox.py: unknown option or missing value: {flag}")
        if key == "read":
            opts["read"].append(value)
        else:
            opts[key] = int(value) if key == "memory_mb" else value
    argv = argv[1:]
    if not argv:
        raise SystemExit("usage: sandbox.py [--memory-mb N] [--tmp DIR] [--read PATH ...] [--user NAME] "
                         "-- <kernel command ...>")
    return opts, argv


def launcher_main(argv=None) -> None:
    """sandbox.py [--memory-mb N] [--tmp DIR] [--read PATH ...] [--user NAME] -- <kernel command ...>

    --tmp DIR: the kernel's private writable folder (TMPDIR and IPYTHONDIR point there);
    with --read, the kernel can read only the --read paths and DIR, and write only in DIR and /dev;
    --user NAME (as root): the kernel runs as that user, who owns DIR and the connection file.
    """
    opts, argv = _parse(list(sys.argv[1:] if argv is None else argv))
    # One BLAS thread per kernel: graders run several kernels side by side.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    program = argv[0] if os.path.isabs(argv[0]) else _which(argv[0])
    connection = argv[argv.index("-f") + 1] if "-f" in argv[:-1] else None
    apply_limits(opts["memory_mb"])
    tmp, readable = opts["tmp"], opts["read"]
    if tmp:
        os.makedirs(tmp, exist_ok=True)
        for var in ("TMPDIR", "IPYTHONDIR"):
            os.environ[var] = tmp
    if opts["user"]:
        drop_privileges(opts["user"], [p for p in (tmp, connection) if p])
    if tmp and readable:
        if connection:          # the kernel's own connection file (not the folder: others' keys)
            readable.append(connection)
        abi = restrict_filesystem(readable + [tmp, "/dev", program], [tmp, "/dev"])
        os.environ["GRADER_LANDLOCK_ABI"] = str(abi)
    os.execv(program, argv)

def _which(name: str) -> str:
    import shutil

    found = shutil.which(name)
    if not found:
        raise SystemExit(f"sandbox.py: cannot find the kernel program {name!r}")
    return found


# --------------------------------------------------------------------------------------------
# Submissions that are not gradable notebooks
# --------------------------------------------------------------------------------------------

def submission_problems(folder, expected) -> list[str]:
    """Why the submission in `folder` cannot be graded as it is (empty list: it can).

    expected: the notebook file names of the assignment (e.g. ["01_mlp.ipynb"]). Reports a missing
    notebook (naming the .ipynb files that are there instead: a renamed copy such as
    "01_mlp (1).ipynb"), and a notebook that is not valid JSON or not a valid notebook.
    """
    import json
    from pathlib import Path

    import nbformat

    folder = Path(folder)
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    problems = []
    for name in expected:
        path = folder / name
        if not path.exists():
            others = [p for p in present if p not in expected]
            if others:
                problems.append(f"{name} is missing; found {', '.join(others)} instead: the notebook was renamed. "
                                f"Rename it back to {name} (nbgrader grades notebooks by their file name).")
            else:
                problems.append(f"{name} is missing: there is no notebook in the submission folder"
                                + (f" (it holds: {', '.join(sorted(p.name for p in folder.iterdir()))})"
                                   if folder.is_dir() and any(folder.iterdir()) else "") + ".")
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{name} is not a valid notebook: the file is not JSON ({exc}). It was probably damaged "
                            "while saving or uploading; download it again from JupyterLab (File > Download).")
            continue
        try:
            nbformat.validate(nbformat.from_dict(nb) if nb.get("nbformat") == 4 else nbformat.reads(json.dumps(nb), 4))
        except Exception as exc:  # noqa: BLE001 - any validation failure is reported the same way
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append(f"{name} is not a valid notebook: {first[:300]}")
    return problems


if __name__ == "__main__":
    launcher_main()
else:
    from sandbox_guard import builtin_names_used  # noqa: E402,F401 - re-exported
    from sandbox_kernel import LAUNCHER, readable_paths  # noqa: E402,F401
    from sandbox_scrub import SCRUBBED, ScrubHiddenOutputs, scrub_hidden_outputs  # noqa: E402,F401
    from sandbox_restore import RESTORED_FLAG, RESTORED_NOTE, RestoreLockedCells  # noqa: E402,F401
    from sandbox_execute import GuardedExecute  # noqa: E402,F401
    from sandbox_kernel import LimitedKernelManager  # noqa: E402,F401
