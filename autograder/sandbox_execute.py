"""`GuardedExecute`: nbgrader's Execute preprocessor, hardened against hostile notebooks.

Selected in nbgrader_config.py through Autograde.autograde_preprocessors. On top of Execute:

- kernel death (os._exit, a segfault, the memory limit): the cell gets an error output that says
  what happened, a new kernel is started, the cells that ran before are run again without
  recording their output, and grading goes on with the next cell; after `max_restarts` deaths the
  remaining graded cells score 0 with a message;
- a cell that times out and whose kernel does not recover from the interrupt (a student who
  ignores SIGINT) is handled like a death;
- before every graded test cell the snippets of sandbox_guard.py restore what the student might
  have replaced; if the kernel does not answer with the expected token, the test scores 0 with a
  message instead of running;
- in graded cells, output written to stderr is moved to stdout (nbgrader would otherwise score a
  correct answer 0 because of a warning);
- the output recorded per cell is capped (the first `max_output_lines` / `max_output_chars` and
  the last `tail_lines`, the middle dropped as it arrives);
- every kernel gets a private temporary folder, may read only `readable_paths` (Landlock, where
  the OS has it) and, when `kernel_user` is set and the grader runs as root, runs as that user.
"""
from __future__ import annotations

import secrets

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Integer, List, Unicode

from sandbox_guard import GUARD_AFTER, GUARD_RESTORE, GUARD_SETUP, builtin_names_used
from sandbox_kernel import LimitedKernelManager, readable_paths
from sandbox_restore import RESTORED_FLAG, RESTORED_NOTE


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
    restrict_files = Bool(True, help=(
        "Landlock (Linux >= 5.13): the kernel reads only Python, the installed packages, backprop and the "
        "submission's folder, writes only to a private temporary folder, and cannot signal the grader "
        "or other kernels. Ignored where Landlock is not available.")).tag(config=True)
    extra_readable = List([], help="more paths the kernel may read (restrict_files)").tag(config=True)
    kernel_user = Unicode("", help=(
        "run every kernel as this Unix user (the grader must run as root; the user needs to read Python "
        "and the installed packages). Empty: the kernel runs as the grader.")).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)

    # -- kernel ----------------------------------------------------------------------------
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
        args = ["--tmp", tmp] + (["--user", self.kernel_user] if self.kernel_user else [])
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

    def _responsive(self, index):
        try:
            return self._hidden("pass", index, timeout=self.recovery_timeout)
        except DeadKernelError:
            return False, ""

    # -- outputs ---------------------------------------------------------------------------
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

    @staticmethod
    def _stderr_to_stdout(cell):
        for o in cell.outputs:
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                o["name"] = "stdout"

    def _explain_timeout(self, cell):
        for o in cell.outputs:
            if o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError":
                o["evalue"] = (f"this cell was still running after {self.timeout} s and was stopped "
                               "(an endless loop, or far too much work). It scores 0; the rest of the notebook "
                               "was graded.")
                o["traceback"] = [f"\x1b[0;31mCellTimeoutError\x1b[0m: {o['evalue']}"]

    # -- cells -----------------------------------------------------------------------------
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
            if graded_test and not self._guard_before_test(cell, index):
                return cell, resources
            cell, resources = super().preprocess_cell(cell, resources, index)
            self._after_cell(cell, index, graded_test)
        except (DeadKernelError, CellTimeoutError) as exc:
            self._after_death(cell, index, exc)
        self.nb.cells[index] = cell
        return cell, resources

    def _guard_before_test(self, cell, index) -> bool:
        """Restore the grading environment before a test cell; False (and the cell scores 0) if the
        kernel no longer runs code as it should."""
        token = secrets.token_hex(12)
        ok, text = self._hidden(GUARD_RESTORE % {"key": self._key, "token": token,
                                                 "used": builtin_names_used(cell.source)},
                                index, timeout=max(self.timeout or 0, 30))
        if ok and token in text:
            return True
        self.log.warning("guard check failed before %s: %s", cell.metadata.nbgrader.get("grade_id"), text[-500:])
        cell.outputs = []
        self._error(cell, "GradingEnvironmentTampered", (
            "this test could not run in a clean environment: code in the notebook changed how "
            "the kernel runs cells or reports errors (input transformers, exception handlers, "
            "sys.modules, ...). Remove that code; this test scores 0."))
        return False

    def _after_cell(self, cell, index, graded_test) -> None:
        """Cap the output, explain a timeout (a kernel that stays unresponsive counts as dead),
        note a restored test cell, give a test's stderr to stdout."""
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

    def _after_death(self, cell, index, exc) -> None:
        """The kernel died or stopped answering in this cell: say so, restart, replay."""
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
