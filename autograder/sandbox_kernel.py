"""Grading kernels start through the sandbox launcher: `LimitedKernelManager` and what a kernel may read.

`LimitedKernelManager` is jupyter_client's kernel manager with one change: the kernel command is
prefixed with `python autograder/sandbox.py <limits> --`, so every grading kernel starts under the
resource limits, the file-system restriction and (as root) the unprivileged user that the launcher
applies before it exec's the kernel. `readable_paths` lists what a kernel needs to read.
"""
from __future__ import annotations

import os
import sys

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, List

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")


class LimitedKernelManager(AsyncKernelManager):
    """Starts the kernel through sandbox.py, which applies the resource limits."""

    memory_mb = Integer(2048, help="address-space limit of the kernel in MiB (0: none)").tag(config=True)
    sandbox_args = List([], help="more launcher options (--tmp, --read, --user), set by GuardedExecute")

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        limit = ["--memory-mb", str(self.memory_mb)] if self.memory_mb else []
        return [sys.executable, LAUNCHER, *limit, *self.sandbox_args, "--", *cmd]


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
