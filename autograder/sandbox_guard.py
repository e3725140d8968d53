"""Kernel-side snippets of the grading sandbox: run hidden in the kernel, never recorded in the notebook.

- GUARD_SETUP (once per kernel): imports the real builtins, numpy, math, warnings, contextlib,
  traceback and backprop (not a fake package from the submission's folder) and snapshots their
  attributes, sys.stdout/stderr/excepthook/displayhook and IPython's transformers, exception
  handlers and event callbacks, in a module stored under a random key.
- GUARD_RESTORE (before every graded test cell): puts the snapshot back, moves aside the names of
  builtins that the test uses and the notebook rebound (`range = ...`), and prints a random token
  that tells the grader the kernel still runs cells as it should.
- GUARD_AFTER (after the test cell): gives the notebook its moved-aside names back.
"""
from __future__ import annotations

import re

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
