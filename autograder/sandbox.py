"""Grading hostile notebooks: a kernel with resource limits and an Execute that survives it.

nbgrader runs each submission in a fresh kernel. This module makes that run robust:

1. Resource limits. `LimitedKernelManager` starts every kernel through this file used as a
   launcher (`python sandbox.py --memory-mb N --tmp DIR --read PATH ... -- <kernel command>`),
   which sets RLIMIT_AS (address space: a memory bomb gets MemoryError or dies, the machine is
   unharmed), RLIMIT_CORE = 0 (no core dumps) and RLIMIT_FSIZE (no disk-filling file), and,
   where Linux offers Landlock (5.13+, no privileges needed), lets the kernel read only
   Python, the installed packages, backprop and its own submission folder (not solutions/,
   the gradebook, other submissions or other kernels' connection files), write only to a
   private temporary folder, and not signal processes outside (the grader, other kernels);
   then it exec's the kernel.
2. `GuardedExecute`, nbgrader's Execute preprocessor with these additions (selected in
   nbgrader_config.py through Autograde.autograde_preprocessors):
   - kernel death (os._exit, a segfault, the memory limit): the cell gets an error output
     that says what happened, a new kernel is started, the cells that ran before are run
     again without recording their output, and grading goes on with the next cell; after
     `max_restarts` deaths the remaining graded cells score 0 with a message;
   - a cell that times out and whose kernel does not recover from the interrupt (a student
     who ignores SIGINT) is handled like a death;
   - before every graded test cell a hidden snippet restores what the student might have
     replaced: the attributes of builtins, numpy, math, warnings, contextlib, traceback and
     every backprop module (so a monkeypatched checker, np.allclose or builtins.AssertionError
     is put back), the modules in sys.modules, sys.stdout/stderr/excepthook/displayhook,
     IPython's input/AST transformers, custom exception handlers and event callbacks; names
     of builtins that the test cell uses and that the student rebound in the notebook's
     namespace (`range = ...`) are moved aside while the test runs. The snippet prints a
     random token; if it does not come back (the kernel was tampered with), the graded cell
     scores 0 with a message instead of running;
   - in graded cells, output written to stderr is moved to stdout (nbgrader would otherwise
     score a correct answer 0 because of a warning);
   - the output recorded per cell is capped (the first `max_output_lines` / `max_output_chars`
     and the last `tail_lines`, the middle dropped as it arrives): a print in a loop cannot
     fill the grader's memory or the feedback.
3. `RestoreLockedCells` (sanitize step, in place of nbgrader's OverwriteCells): locked cells
   get their original source back, deleted graded cells are put back, and a restored test
   cell prints a note saying so.
4. `ScrubHiddenOutputs` (feedback step, before the hidden tests are cut from the sources):
   every output line that quotes a hidden test is replaced (a student's function can print
   the source of the test cell that calls it).
5. `submission_problems`: a missing, renamed or damaged notebook, in words (autograde.py
   reports such a submission and grades the others).

This hardens the grading of ordinary mistakes and ordinary cheating attempts. A student who
studies this file and attacks the kernel deliberately can still interfere with code running in
the same process; such submissions show up as failed guard checks or odd outputs in the
autograded notebooks, which an instructor should look at.
"""
from __future__ import annotations

import os
import re
import secrets
import sys

LAUNCHER = os.path.abspath(__file__)
RESTORED_FLAG = "grader_restored"
RESTORED_NOTE = ("[grader] This test cell was changed or deleted in your notebook. The original test was "
                 "restored and run: tests are locked and cannot be edited.\n")


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


def launcher_main(argv=None) -> None:
    """sandbox.py [--memory-mb N] [--tmp DIR] [--read PATH ...] -- <kernel command ...>

    --tmp DIR: the kernel's private writable folder (TMPDIR, IPYTHONDIR, MPLCONFIGDIR point there);
    with --read, the kernel can read only the --read paths and DIR, and write only in DIR and /dev.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    memory_mb, tmp, readable = None, None, []
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--memory-mb":
            memory_mb = int(value)
        elif flag == "--tmp":
            tmp = value
        elif flag == "--read":
            readable.append(value)
        else:
            raise SystemExit(f"sandbox.py: unknown option {flag}")
    argv = argv[1:]
    if not argv:
        raise SystemExit("usage: sandbox.py [--memory-mb N] [--tmp DIR] [--read PATH ...] -- <kernel command ...>")
    # One BLAS thread per kernel: graders run several kernels side by side.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    program = argv[0] if os.path.isabs(argv[0]) else _which(argv[0])
    apply_limits(memory_mb)
    if tmp:
        os.makedirs(tmp, exist_ok=True)
        for var in ("TMPDIR", "IPYTHONDIR"):
            os.environ[var] = tmp
        if readable:
            if "-f" in argv[:-1]:          # the kernel's own connection file (not the folder: others' keys)
                readable.append(argv[argv.index("-f") + 1])
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
# Kernel-side snippets (run hidden, never recorded in the notebook)
# --------------------------------------------------------------------------------------------

GUARD_SETUP = r'''
def _grading_guard_setup(key):
    import sys, os, builtins, importlib
    names = ["builtins", "numpy", "numpy.linalg", "numpy.random", "math", "warnings", "contextlib",
             "traceback", "backprop", "backprop.grading"]
    # Import the real modules, not a backprop/ or numpy.py the submission may carry in its folder.
    saved_path = list(sys.path)
    here = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != here]
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                pass
    finally:
        sys.path[:] = saved_path
    mods = {}
    for name, mod in list(sys.modules.items()):
        if mod is not None and (name in names or name.startswith("backprop.")):
            mods[name] = (mod, dict(vars(mod)))
    snap = {"modules": mods,
            "sys": {k: getattr(sys, k) for k in ("stdout", "stderr", "excepthook", "displayhook")},
            "ipython": None}
    try:
        ip = get_ipython()
        snap["ipython"] = {
            "shell": ip,
            "shell_keys": set(vars(ip)),
            "kernel": getattr(ip, "kernel", None),
            "kernel_keys": set(vars(ip.kernel)) if getattr(ip, "kernel", None) is not None else set(),
            "cleanup": list(ip.input_transformers_cleanup),
            "post": list(ip.input_transformers_post),
            "ast": list(ip.ast_transformers),
            "custom_exceptions": ip.custom_exceptions,
            "CustomTB": getattr(ip, "CustomTB", None),
            "events": {k: list(v) for k, v in ip.events.callbacks.items()},
        }
    except NameError:
        pass
    holder = type(sys)(key)
    holder.snapshot = snap
    sys.modules[key] = holder

_grading_guard_setup(%(key)r)
del _grading_guard_setup
'''

GUARD_RESTORE = r'''
def _grading_guard_restore(key, token, used):
    import sys as _s
    snap = _s.modules[key].snapshot
    for k, v in snap["sys"].items():
        setattr(_s, k, v)
    for name, (mod, saved) in snap["modules"].items():
        _s.modules[name] = mod
        cur = vars(mod)
        for k, v in saved.items():
            if cur.get(k, cur) is not v:
                cur[k] = v
    ipy = snap["ipython"]
    if ipy is not None:
        ip = ipy["shell"]
        for obj, keys in ((ip, ipy["shell_keys"]), (ipy["kernel"], ipy["kernel_keys"])):
            if obj is None:
                continue
            for k in [k for k in vars(obj) if k not in keys]:
                if callable(getattr(type(obj), k, None)):
                    delattr(obj, k)
        ip.input_transformers_cleanup[:] = ipy["cleanup"]
        ip.input_transformers_post[:] = ipy["post"]
        ip.ast_transformers[:] = ipy["ast"]
        ip.custom_exceptions = ipy["custom_exceptions"]
        ip.CustomTB = ipy["CustomTB"]
        for k in list(ip.events.callbacks):
            ip.events.callbacks[k][:] = ipy["events"].get(k, [])
    main = _s.modules["__main__"].__dict__
    bi = snap["modules"]["builtins"][1]
    stash = {}
    for k in used:
        if k in main and k in bi and main[k] is not bi[k]:
            stash[k] = main.pop(k)
    _s.modules[key].stash = stash
    _s.stdout.write(token + "\n")
    _s.stdout.flush()

_grading_guard_restore(%(key)r, %(token)r, %(used)r)
del _grading_guard_restore
'''

GUARD_AFTER = r'''
def _grading_guard_after(key):
    import sys as _s
    holder = _s.modules.get(key)
    stash = getattr(holder, "stash", None) or {}
    _s.modules["__main__"].__dict__.update(stash)
    if holder is not None:
        holder.stash = {}

_grading_guard_after(%(key)r)
del _grading_guard_after
'''

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def builtin_names_used(source: str) -> list[str]:
    """Names of builtins that appear as identifiers in `source` (a test cell)."""
    import builtins

    return sorted({w for w in _IDENT.findall(source) if hasattr(builtins, w) and not w.startswith("__")})


def readable_paths(notebook_dir=None) -> list[str]:
    """What a grading kernel needs to read: Python, its packages, backprop, system libraries and
    configuration, matplotlib's caches, the submission's own folder. Not the course repository
    (solutions/, the gradebook), not other submissions, not other kernels' connection files."""
    import importlib.util
    import site

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        paths.add(user_site)
    spec = importlib.util.find_spec("backprop")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        paths.add(os.path.dirname(os.path.abspath(loc)))
    home = os.path.expanduser("~")
    paths.add(os.environ.get("MPLCONFIGDIR") or os.path.join(os.environ.get("XDG_CONFIG_HOME") or
                                                               os.path.join(home, ".config"), "matplotlib"))
    paths.add(os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "matplotlib"))
    paths.update(["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev"])
    if notebook_dir:
        paths.add(os.path.abspath(notebook_dir))
    return sorted(p for p in paths if p and os.path.exists(p))


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)
SCRUBBED = "[grader: output line removed: it quotes a hidden test]"


def _visible(source: str) -> list[str]:
    """A test cell as the student sees it: hidden blocks gone, blank lines and indentation ignored."""
    return [l.strip() for l in HIDDEN_BLOCK.sub("", source).replace("### BEGIN HIDDEN TESTS", "").splitlines()
            if l.strip()]


def scrub_hidden_outputs(nb, min_length: int = 12) -> int:
    """Remove from every output of the notebook each line that quotes a hidden-test line.

    Student code can print the source of the cell that calls it (through the frame's code and
    linecache), so hidden tests could reach the outputs and the feedback. Lines of the hidden
    blocks that also appear outside them (a visible call repeated in the hidden part) are not
    secret and stay. Returns the number of lines removed."""
    hidden, visible = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for block in HIDDEN_BLOCK.findall(cell.source):
            hidden |= {l.strip() for l in block.splitlines() if len(l.strip()) >= min_length}
        visible |= {l.strip() for l in HIDDEN_BLOCK.sub("", cell.source).splitlines()}
    hidden -= visible
    if not hidden:
        return 0
    hidden |= {"### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}
    removed = 0

    def clean(text):
        nonlocal removed
        joined = text if isinstance(text, str) else "".join(text)
        lines = joined.split("\n")
        plain = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", l) for l in lines]
        keep = []
        for line, bare in zip(lines, plain):
            if any(h in bare for h in hidden):
                removed += 1
                keep.append(SCRUBBED)
            else:
                keep.append(line)
        return "\n".join(keep)

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = clean(out.get("text", ""))
            elif out.get("output_type") == "error":
                out["evalue"] = clean(out.get("evalue", ""))
                out["traceback"] = [clean(t) for t in out.get("traceback", [])]
            elif "data" in out:
                for mime in list(out["data"]):
                    if mime.startswith("text/") or mime in ("application/json",):
                        if isinstance(out["data"][mime], (str, list)):
                            out["data"][mime] = clean(out["data"][mime])
    return removed


# --------------------------------------------------------------------------------------------
# nbgrader side: the kernel manager and the Execute preprocessor
# --------------------------------------------------------------------------------------------

def _classes():
    """Defined lazily so that the launcher starts without importing jupyter_client or nbgrader."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import DeadKernelError
    from nbconvert.preprocessors import Preprocessor
    from nbformat.v4 import new_code_cell, new_output
    from nbgrader.preprocessors import Execute, OverwriteCells
    from nbgrader.utils import is_grade, is_solution
    from nbclient.exceptions import CellTimeoutError
    from traitlets import Bool, Integer, List

    class LimitedKernelManager(AsyncKernelManager):
        """Starts the kernel through sandbox.py, which applies the resource limits."""

        memory_mb = Integer(2048, help="address-space limit of the kernel in MiB (0: none)").tag(config=True)
        sandbox_args = List([], help="more launcher options (--tmp, --read), set by GuardedExecute")

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            limit = ["--memory-mb", str(self.memory_mb)] if self.memory_mb else []
            return [sys.executable, LAUNCHER, *limit, *self.sandbox_args, "--", *cmd]

    class GuardedExecute(Execute):
        """nbgrader's Execute, hardened against hostile notebooks (see the module docstring)."""

        memory_limit_mb = Integer(2048, help="address-space limit of each grading kernel, MiB (0: none)").tag(config=True)
        max_restarts = Integer(3, help="kernel deaths tolerated per notebook before the rest scores 0").tag(config=True)
        max_output_chars = Integer(10000, help="stream output kept per cell before the cut, characters").tag(config=True)
        max_output_lines = Integer(200, help="stream output kept per cell before the cut, lines").tag(config=True)
        tail_lines = Integer(30, help="lines kept from the end of a cut output").tag(config=True)
        # nbgrader's 4 s makes a loaded machine fail good notebooks ("Timeout waiting for IOPub output").
        iopub_timeout = Integer(30, allow_none=False, help="seconds to wait for output after a cell's reply").tag(config=True)
        # A kernel whose output channel was broken by the notebook must not fail the whole submission.
        raise_on_iopub_timeout = Bool(False, help="fail the submission when a cell's output does not arrive").tag(config=True)
        recovery_timeout = Integer(10, help="seconds a kernel gets to answer after an interrupt").tag(config=True)

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
            super().__init__(*args, **kwargs)

        restrict_files = Bool(True, help=(
            "Landlock (Linux >= 5.13): the kernel reads only Python, the installed packages, backprop and the "
            "submission's folder, writes only to a private temporary folder, and cannot signal the grader "
            "or other kernels. Ignored where Landlock is not available.")).tag(config=True)
        extra_readable = List([], help="more paths the kernel may read (restrict_files)").tag(config=True)

        # -- kernel ------------------------------------------------------------------------
        def create_kernel_manager(self):
            km = super().create_kernel_manager()
            if hasattr(km, "memory_mb"):
                km.memory_mb = self.memory_limit_mb
                km.sandbox_args = self._sandbox_args()
            return km

        def _sandbox_args(self) -> list:
            import tempfile

            self._tmpdirs = getattr(self, "_tmpdirs", [])
            tmp = tempfile.mkdtemp(prefix="grading-kernel-")
            self._tmpdirs.append(tmp)
            args = ["--tmp", tmp]
            if self.restrict_files:
                for path in readable_paths(self.resources.get("metadata", {}).get("path")) + list(self.extra_readable):
                    args += ["--read", path]
            return args

        def preprocess(self, nb, resources=None, km=None):
            import shutil

            self._key = "_grading_snapshot_" + secrets.token_hex(8)
            self._ran = []          # indices of cells to replay after a restart
            self._deaths = 0
            self._guard_ready = False
            self._used, self._tail, self._cut = {}, {}, {}
            self.resources = resources if resources is not None else {}
            try:
                return super().preprocess(nb, resources, km)
            finally:
                for tmp in getattr(self, "_tmpdirs", []):
                    shutil.rmtree(tmp, ignore_errors=True)
                self._tmpdirs = []

        def _hidden(self, code: str, index: int, timeout=None):
            """Run code in the kernel without recording it; return (reply status, stdout text)."""
            cell = new_code_cell(code)
            saved, saved_timeout = self.nb.cells[index], self.timeout
            if timeout is not None:
                self.timeout = timeout
            try:
                cell = self.execute_cell(cell, index, store_history=False)
            finally:
                self.nb.cells[index] = saved
                self.timeout = saved_timeout
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            failed = any(o.get("output_type") == "error" for o in cell.outputs)
            return (not failed), text

        def _fresh_kernel(self, index: int) -> None:
            """Replace the kernel by a new one, guarded, in the submission's folder."""
            self._cleanup_kernel()
            self.km = self.create_kernel_manager()
            self.start_new_kernel(cwd=self.resources.get("metadata", {}).get("path") or None)
            self.start_new_kernel_client()
            self._guard_ready = False
            self._setup_guard(index)

        def _restart(self, index: int) -> None:
            self.log.warning("Restarting the kernel and replaying %d cells", len(self._ran))
            self._fresh_kernel(index)
            for j in list(self._ran):
                try:
                    self._hidden(self.nb.cells[j].source, j)
                except (DeadKernelError, CellTimeoutError):  # a cell that ran before fails now: go on without state
                    self._ran = []
                    self._fresh_kernel(index)
                    break

        def _setup_guard(self, index: int) -> None:
            if not self._guard_ready:
                self._hidden(GUARD_SETUP % {"key": self._key}, index)
                self._guard_ready = True

        # -- outputs -----------------------------------------------------------------------
        def output(self, outs, msg, display_id, cell_index):
            """Keep the first max_output_chars (and max_output_lines) of a cell's stream output and
            a short tail; the middle is dropped as it arrives, so a flood never fills memory."""
            if msg.get("msg_type") != "stream":
                return super().output(outs, msg, display_id, cell_index)
            text = msg["content"].get("text", "")
            used = self._used.setdefault(cell_index, [0, 0])
            room = max(0, self.max_output_chars - used[0])
            lines_left = max(0, self.max_output_lines - used[1])
            cut = min(len(text), room)
            pos = -1
            for _ in range(lines_left):
                pos = text.find("\n", pos + 1)
                if pos < 0 or pos >= cut:
                    break
            else:
                cut = min(cut, pos + 1)
            head, text = text[:cut], text[cut:]
            result = None
            if head:
                used[0] += len(head)
                used[1] += head.count("\n")
                msg = dict(msg, content=dict(msg["content"], text=head))
                result = super().output(outs, msg, display_id, cell_index)
            if not text:
                return result
            tail = (self._tail.get(cell_index, "") + text)
            lines = tail.splitlines(keepends=True)[-self.tail_lines:]
            self._tail[cell_index] = "".join(lines)[-2000:]
            self._cut[cell_index] = self._cut.get(cell_index, 0) + len(text)
            return None

        def _flush_tail(self, cell, index):
            if index in self._cut:
                cell.outputs.append(new_output("stream", name="stdout", text=(
                    f"\n[grader: {self._cut.pop(index)} characters of output cut here; the last lines follow]\n"
                    + self._tail.pop(index, ""))))
            self._used.pop(index, None)

        @staticmethod
        def _error(cell, ename, text):
            cell.outputs.append(new_output("error", ename=ename, evalue=text,
                                           traceback=[f"\x1b[0;31m{ename}\x1b[0m: {text}"]))

        # -- cells -------------------------------------------------------------------------
        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code" or not cell.source.strip():
                return cell, resources
            graded_test = is_grade(cell) and not is_solution(cell)
            if self._deaths > self.max_restarts:
                cell.outputs = []
                self._error(cell, "KernelDied", (
                    f"not run: the kernel died {self._deaths} times in this notebook (see the cells marked "
                    "KernelDied above), so grading stopped here. Fix those cells first."))
                return cell, resources
            try:
                self._setup_guard(index)
                if graded_test:
                    token = secrets.token_hex(12)
                    ok, text = self._hidden(GUARD_RESTORE % {"key": self._key, "token": token,
                                                             "used": builtin_names_used(cell.source)},
                                            index, timeout=max(self.timeout or 0, 30))
                    if not ok or token not in text:
                        self.log.warning("guard check failed before %s: %s", cell.metadata.nbgrader.get("grade_id"),
                                         text[-500:])
                        cell.outputs = []
                        self._error(cell, "GradingEnvironmentTampered", (
                            "this test could not run in a clean environment: code in the notebook changed how "
                            "the kernel runs cells or reports errors (input transformers, exception handlers, "
                            "sys.modules, ...). Remove that code; this test scores 0."))
                        return cell, resources
                cell, resources = super().preprocess_cell(cell, resources, index)
                self._flush_tail(cell, index)
                timed_out = any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                                for o in cell.outputs)
                if timed_out:
                    self._explain_timeout(cell)
                    ok, _ = self._responsive(index)
                    if not ok:
                        raise DeadKernelError("kernel unresponsive after a timeout")
                elif not graded_test:
                    self._ran.append(index)
                if cell.metadata.pop(RESTORED_FLAG, None):
                    cell.outputs.insert(0, new_output("stream", name="stdout", text=RESTORED_NOTE))
                if graded_test:
                    self._hidden(GUARD_AFTER % {"key": self._key}, index, timeout=self.recovery_timeout)
                    self._stderr_to_stdout(cell)
            except (DeadKernelError, CellTimeoutError) as exc:
                if isinstance(exc, CellTimeoutError):
                    exc = DeadKernelError("kernel unresponsive: " + str(exc).splitlines()[0])
                self._deaths += 1
                if "unresponsive" not in str(exc):
                    self._error(cell, "KernelDied", (
                        "the kernel stopped while running this cell (the process died: os._exit, a crash in "
                        "compiled code such as a segmentation fault, or memory beyond the grader's limit of "
                        f"{self.memory_limit_mb} MiB). This cell scores 0; the notebook was restarted and "
                        "grading went on with the next cell."))
                else:
                    self._error(cell, "KernelUnresponsive", (
                        "the kernel did not respond after this cell was interrupted, so it was restarted; "
                        "grading went on with the next cell."))
                if self._deaths <= self.max_restarts:
                    self._restart(index)
            self.nb.cells[index] = cell
            return cell, resources

        def _explain_timeout(self, cell):
            for o in cell.outputs:
                if o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError":
                    o["evalue"] = (f"this cell was still running after {self.timeout} s and was stopped "
                                   "(an endless loop, or far too much work). It scores 0; the rest of the notebook "
                                   "was graded.")
                    o["traceback"] = [f"\x1b[0;31mCellTimeoutError\x1b[0m: {o['evalue']}"]

        def _responsive(self, index):
            try:
                return self._hidden("pass", index, timeout=self.recovery_timeout)
            except DeadKernelError:
                return False, ""

        @staticmethod
        def _stderr_to_stdout(cell):
            for o in cell.outputs:
                if o.get("output_type") == "stream" and o.get("name") == "stderr":
                    o["name"] = "stdout"

    class RestoreLockedCells(OverwriteCells):
        """nbgrader's OverwriteCells (locked cells get their original source back from the gradebook),
        plus: deleted graded cells are put back (after the cell that preceded them, else at the end),
        and every restored graded cell is flagged so that GuardedExecute prints a note in its output."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.add_missing_cells = True

        def preprocess_cell(self, cell, resources, cell_index):
            before = cell.source
            cell, resources = super().preprocess_cell(cell, resources, cell_index)
            if cell.cell_type == "code" and is_grade(cell) and _visible(cell.source) != _visible(before):
                cell.metadata[RESTORED_FLAG] = True
            return cell, resources

        def missing_cell_transform(self, source_cell, max_score, is_solution=False, is_task=False):
            cell = super().missing_cell_transform(source_cell, max_score, is_solution=is_solution, is_task=is_task)
            cell["id"] = "restored-" + re.sub(r"[^A-Za-z0-9_-]", "-", source_cell.name)[:50]
            if cell.cell_type == "code":
                cell.metadata[RESTORED_FLAG] = True
            return cell

        def add_missing_grade_cells(self, nb, resources):
            try:
                return super().add_missing_grade_cells(nb, resources)
            except (KeyError, ValueError):   # the neighbour is gone too: put the missing cells at the end
                source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
                present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
                solutions = {c.name for c in source_nb.solution_cells}
                sources = {c.name: c for c in source_nb.source_cells}
                for gc in source_nb.grade_cells:
                    if gc.name not in present and gc.name in sources:
                        nb.cells.append(self.missing_cell_transform(sources[gc.name], gc.max_score,
                                                                    is_solution=gc.name in solutions))
                return nb, resources

    class ScrubHiddenOutputs(Preprocessor):
        """Feedback: every output line that quotes a hidden test is replaced (scrub_hidden_outputs).
        Must run before the hidden tests are removed from the sources."""

        enabled = True

        def preprocess(self, nb, resources):
            scrub_hidden_outputs(nb)
            return nb, resources

    return LimitedKernelManager, GuardedExecute, RestoreLockedCells, ScrubHiddenOutputs


if __name__ == "__main__":
    launcher_main()
else:
    try:
        LimitedKernelManager, GuardedExecute, RestoreLockedCells, ScrubHiddenOutputs = _classes()
    except ImportError:  # pragma: no cover - only the launcher needs to work without nbgrader
        pass


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
