"""Grading helpers: what the notebooks' check cells and graded test cells call.

Every helper runs a student's function on fresh inputs, compares the result with finite
differences (or with a reference value), prints a per-tensor table to STDOUT and raises an
AssertionError whose message is the diagnosis ("dW is the transpose of the right answer").
Nothing is ever written to stderr (nbgrader zeroes a cell that writes to stderr): warnings
are recorded and printed to stdout, and anything the student's code writes to stderr is
redirected to stdout while it runs.

The checks:

    check_layer_backward(student_backward, forward, inputs, grad_names, seed=...)
        a layer's backward: grads = student_backward(dout, cache) for a random dout
    check_function_gradients(student_fn, loss_fn, inputs, wrt, seed=...)
        a whole network: the student returns the gradients of a scalar loss
    check_derivative(student_df, f, seed=...)
        an element-wise derivative f'(u) (or f' written with y = f(u))
    check_value(got, expected, name=...)
        any number or array that is not a gradient (a forward pass, a relative error)
    expect_wrong(check, *args, kind="sign", **kwargs)
        a formula implemented exactly as a source document writes it: passes when the
        checker REFUTES it (with the expected kind of diagnosis)

Every student call goes through `call_student`, which runs it with the reference backward
functions of `backprop` blocked (`blocked_reference`), turns NotImplementedError into "not
implemented yet", any other exception into a short explanation, and inspects what came back
(None, a list, a tuple of the wrong length, float32, the wrong shape, NaN) before any
arithmetic is done with it. All failures are subclasses of `GradingError` (an AssertionError).
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

from .explain import across_tensors
from .gradcheck import DEFAULT_RTOL, TABLE_HEAD, check_gradients, format_shape, format_table
from .returned import inspect_returned
from .rules import plural
from .slips import matching_slip, run_slip

last_report = None
"""The GradCheckReport of the last successful check (the checks return None, so that a graded
cell never ends in a value nbgrader would read as partial credit)."""

__all__ = [
    "GradingError", "NotImplementedYet", "StudentCodeError", "ReferenceCalled", "BadReturn", "WrongGradient",
    "WrongValue", "random_inputs", "random_labels", "blocked_reference", "references_allowed", "call_student",
    "check_layer_backward", "check_function_gradients", "check_derivative", "check_value", "check_value_slips",
    "check_values_slips",
    "expect_wrong",
]


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------

class GradingError(AssertionError):
    """A graded check failed; the message says why in plain words.

    `.kinds` maps a tensor name to the kind of failure ("sign", "transpose", "shape", ...) for
    failures about specific tensors; it is empty for failures of the whole call.
    """

    def __init__(self, message: str, kinds: Optional[Mapping[str, str]] = None):
        super().__init__(message)
        self.kinds = dict(kinds or {})


class NotImplementedYet(GradingError):
    """The student's function (or one it calls) still raises NotImplementedError."""


class StudentCodeError(GradingError):
    """The student's function raised an exception."""


class ReferenceCalled(GradingError):
    """The student's function called a blocked reference implementation."""


class BadReturn(GradingError):
    """The student's function returned something that is not the expected arrays."""


class WrongGradient(GradingError):
    """The gradients disagree with finite differences. `.report` is the gradient check report."""

    def __init__(self, message, kinds=None, report=None):
        super().__init__(message, kinds)
        self.report = report


class WrongValue(GradingError):
    """A value (not a gradient) differs from the expected one."""


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def random_inputs(shapes: Mapping[str, tuple], seed: int, *, scale: float = 1.0,
                  avoid_kinks=False, positive: Iterable[str] = ()) -> dict:
    """Fresh float64 arrays drawn from a normal distribution, one per name.

    shapes: name -> shape, e.g. {"x": (4, 3), "W": (2, 3), "b": (2,)}.
    seed: the arrays depend only on the seed and the shapes.
    scale: standard deviation.
    avoid_kinks: True (every array) or a collection of names: entries are kept at least
        0.1 * scale away from 0, so an element-wise ReLU applied to these arrays has no entry on
        its kink. (Kinks deeper in a network are found and skipped by the gradient checker.)
    positive: names whose entries must be positive (inputs of a log or a division): |x| + 0.1.
    """
    rng = np.random.default_rng(seed)
    kinked = set(shapes) if avoid_kinks is True else set(avoid_kinks or ())
    positive = set(positive)
    out = {}
    for name, shape in shapes.items():
        arr = rng.standard_normal(tuple(shape)) * scale
        if name in kinked:
            arr = np.sign(arr) * (np.abs(arr) + 0.1 * scale) + (arr == 0) * 0.1 * scale
        if name in positive:
            arr = np.abs(arr) + 0.1
        out[name] = np.asarray(arr, dtype=np.float64)
    return out


def random_labels(n: int, num_classes: int, seed: int) -> np.ndarray:
    """n integer class labels in [0, num_classes), shape (n,)."""
    return np.random.default_rng(seed).integers(0, num_classes, size=n)


# --------------------------------------------------------------------------------------------
# Running student code safely
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet():
    """Redirect stderr to stdout and record warnings; print the warnings to stdout afterwards."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("always")
        try:
            yield caught
        finally:
            seen = set()
            for w in caught:
                text = f"{w.category.__name__}: {w.message}"
                if text not in seen:
                    seen.add(text)
                    print(f"note: a warning was raised while checking: {text}")


@dataclass
class _Block:
    calls: list = field(default_factory=list)
    blocked: list = field(default_factory=list)


def _is_reference(modname: str, attr: str, val) -> bool:
    """A library function that answers an exercise: `*_backward`, `*_grads`, and every `reference_*`
    of backprop.checks (the exercises' own references, which the checks hold beside their slips)."""
    if attr.startswith("_") or not callable(val) or isinstance(val, type):
        return False
    if not str(getattr(val, "__module__", "")).startswith("backprop"):
        return False
    return (attr.endswith("_backward") or attr.endswith("_grads")
            or (modname.startswith("backprop.checks") and attr.startswith("reference_")))


def _reference_targets(allow: Iterable[str], also: Iterable[str]) -> dict:
    """name -> reference function to block: see _is_reference, plus `also`, minus `allow`."""
    import backprop

    allow = set(allow)
    targets = {}
    for modname, mod in list(sys.modules.items()):
        if mod is None or not (modname == "backprop" or modname.startswith("backprop.")):
            continue
        if modname == __name__:
            continue
        for attr, val in list(vars(mod).items()):
            if attr not in allow and _is_reference(modname, attr, val):
                key = attr if not attr.startswith("reference_") else f"{modname[len('backprop.'):]}.{attr}"
                targets.setdefault(key, val)
    for name in also:
        obj = backprop
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                raise ValueError(f"blocked_reference(also=...): backprop has no {name!r}")
        targets[name.split(".")[-1]] = obj
    return targets


def _make_blocker(name: str, block: _Block):
    def blocked(*args, **kwargs):
        block.calls.append(name)
        raise ReferenceCalled(
            f"your code called backprop's {name}, the course's reference implementation. It is switched "
            f"off while your work is graded: calling it earns no credit. Write this step yourself."
        )

    blocked.__name__ = name
    blocked.__qualname__ = f"blocked {name}"
    return blocked


_REFERENCES_ALLOWED = 0
"""How many `references_allowed()` blocks are open. A module global on purpose: the autograder's
guard restores backprop's module state before every graded cell."""


@contextlib.contextmanager
def references_allowed():
    """Inside this block `blocked_reference` blocks nothing: for the course's own tools, which run
    the catalogued slips (built from the references) through the checks as if a student wrote them."""
    global _REFERENCES_ALLOWED
    _REFERENCES_ALLOWED += 1
    try:
        yield
    finally:
        _REFERENCES_ALLOWED -= 1


@contextlib.contextmanager
def blocked_reference(*, allow: Iterable[str] = (), also: Iterable[str] = (), namespaces: Iterable = ()):
    """Temporarily replace backprop's reference functions with ones that refuse to run.

    Blocked: every function named `*_backward` or `*_grads` (mlp_loss_and_grads) defined in backprop
    (minus the names in `allow`),
    plus the names in `also` (e.g. also=("sigmoid_grad", "numerical_gradient")). They are
    replaced wherever they are bound: in backprop and its submodules, in `__main__` (the
    notebook's namespace, so `from backprop import dense_backward` is caught too) and in the
    extra `namespaces` (dicts such as a student function's __globals__).
    A blocked function raises ReferenceCalled and records the call in `.calls` of the object
    this yields, so a student who catches the exception is still caught. Everything is
    restored on exit, also when the body raises.
    """
    state = _Block()
    targets = _reference_targets(allow, also) if not _REFERENCES_ALLOWED else {}
    by_id = {id(fn): (name, fn) for name, fn in targets.items()}
    blockers = {name: _make_blocker(name, state) for name in targets}
    dicts = [vars(m) for n, m in list(sys.modules.items())
             if m is not None and (n in ("backprop", "__main__") or n.startswith("backprop."))]
    dicts += [ns for ns in namespaces if isinstance(ns, dict)]
    patched = []  # (dict, attr, original)
    seen = set()
    try:
        for d in dicts:
            if id(d) in seen:
                continue
            seen.add(id(d))
            for attr, val in list(d.items()):
                hit = by_id.get(id(val))
                if hit is not None and hit[1] is val:
                    d[attr] = blockers[hit[0]]
                    patched.append((d, attr, val))
        state.blocked = sorted(targets)
        yield state
    finally:
        for d, attr, original in reversed(patched):
            d[attr] = original


def _where_raised(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].name if frames else "?"


def call_student(fn, *args, name: Optional[str] = None, block: bool = True, allow: Iterable[str] = (),
                 also: Iterable[str] = (), unchanged: bool = False, **kwargs):
    """Call a student's function with the reference blocked; return what it returns.

    unchanged: the function must leave its arguments as it found them (a gradient checker that
        perturbs x must put x back); if it changes one in place, BadReturn (kind "mutated") names it.
    Raises NotImplementedYet, ReferenceCalled or StudentCodeError with a plain explanation.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise BadReturn(f"{name} should be a function, but it is a {type(fn).__name__}. "
                        "Did you overwrite it with a value? Re-run the cell that defines it.")
    namespaces = [getattr(fn, "__globals__", None)]
    ctx = blocked_reference(allow=allow, also=also, namespaces=namespaces) if block else contextlib.nullcontext(_Block())
    before = (_snapshot(args), _snapshot(kwargs)) if unchanged else None
    with _quiet(), ctx as state:
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError as exc:
            where = _where_raised(exc)
            inner = "" if where == getattr(fn, "__name__", None) else f" (raised in {where}, which it calls)"
            raise NotImplementedYet(
                f"{name} is not implemented yet{inner}: replace `raise NotImplementedError()` with your code "
                "and run the cell again."
            ) from None
        except ReferenceCalled:
            raise
        except RecursionError as exc:
            raise StudentCodeError(f"{name} never stopped calling itself (RecursionError: {exc}).") from exc
        except Exception as exc:
            raise StudentCodeError(
                f"{name} raised {type(exc).__name__}: {exc}\n(The traceback above shows the line, in "
                f"{_where_raised(exc)}.)"
            ) from exc
    if unchanged:
        _refuse_changed_arguments(fn, name, before, args, kwargs)
    if state.calls:
        raise ReferenceCalled(
            f"{name} called backprop's {', '.join(sorted(set(state.calls)))}: the reference implementation is "
            "switched off while your work is graded and calling it earns no credit (even when the error is caught)."
        )
    return result


def _refuse_changed_arguments(fn, name, before, args, kwargs):
    """Raise BadReturn naming the first argument `fn` changed in place (before: snapshots of both)."""
    __tracebackhide__ = True
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs).arguments
        position = {id(v): k for k, v in bound.items()}
    except (TypeError, ValueError):
        position = {}
    pairs = [(position.get(id(a), f"argument {i + 1}"), b, a) for i, (b, a) in enumerate(zip(before[0], args))]
    pairs += [(k, before[1].get(k), v) for k, v in kwargs.items()]
    for arg_name, old, new in pairs:
        if _changed(old, new):
            raise BadReturn(
                f"{name} changed its input {arg_name} in place, so its results were computed at a moved point "
                f"and everything after it sees a different {arg_name}. Put every entry back after you perturb "
                f"it (x[i] = old value), or work on a copy.", {arg_name: "mutated"})


# --------------------------------------------------------------------------------------------
# Inspecting what came back
# --------------------------------------------------------------------------------------------

def _inspect_array(value, label: str, shape: tuple, what: str = "gradient"):
    """Return (array, None) or (None, (kind, message)) for one returned gradient/value.

    what: "gradient", "value" or "integer"; the rule is `backprop.returned.inspect_returned`.
    """
    return inspect_returned(value, label, shape, what=what)


def _split_result(result, names: Sequence[str], labels: Sequence[str], fname: str) -> dict:
    """The student's return value -> {name: value}. Accepts an array (one name), a tuple/list in
    the order of `names`, or a dict keyed by names or labels ("W" or "dW")."""
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    n = len(names)
    if result is None:
        raise BadReturn(f"{fname} returned None: did you forget the `return` statement?")
    if isinstance(result, dict):
        out, missing = {}, []
        for name, label in zip(names, labels):
            if name in result:
                out[name] = result[name]
            elif label in result:
                out[name] = result[label]
            else:
                missing.append(label)
        if missing:
            raise BadReturn(f"{fname} returned a dict without the {plural('key', len(missing))} {missing}; "
                            f"expected keys {list(labels)} (it has {list(result)}).")
        return out
    if n == 1 and not isinstance(result, (tuple, list)):
        return {names[0]: result}
    if isinstance(result, (tuple, list)):
        if n == 1 and len(result) == 1:
            return {names[0]: result[0]}
        if n == 1 and len(result) > 1 and all(isinstance(v, (int, float)) for v in result):
            return {names[0]: result}   # a list of numbers: _inspect_array explains
        if len(result) != n:
            raise BadReturn(f"{fname} returned {len(result)} {plural('value', len(result))}, expected {n}: "
                            f"{', '.join(labels)} (in this order).", {l: "shape" for l in labels})
        return dict(zip(names, result))
    raise BadReturn(f"{fname} returned a {type(result).__name__}; expected "
                    + (f"a tuple ({', '.join(labels)})." if n > 1 else "a numpy array."))


def _copy_tree(obj):
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_copy_tree(v) for v in obj) if not hasattr(obj, "_fields") else type(obj)(*(_copy_tree(v) for v in obj))
    if isinstance(obj, dict):
        return {k: _copy_tree(v) for k, v in obj.items()}
    return obj


def _snapshot(obj):
    """A deep copy to compare with after the student's call (None if the object cannot be copied)."""
    try:
        return copy.deepcopy(obj)
    except Exception:
        return None


def _changed(before, after, depth: int = 0) -> bool:
    """True if an array inside `after` differs from its copy in `before` (tuples, lists, dicts,
    dataclasses and simple objects are searched)."""
    if before is None or depth > 6:
        return False
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and np.array_equal(before, after, equal_nan=before.dtype.kind == "f"))
    if isinstance(before, (tuple, list)):
        return (not isinstance(after, (tuple, list)) or len(before) != len(after)
                or any(_changed(b, a, depth + 1) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return (not isinstance(after, dict) or set(before) != set(after)
                or any(_changed(before[k], after[k], depth + 1) for k in before))
    if hasattr(before, "__dict__") and not callable(before):
        b, a = vars(before), getattr(after, "__dict__", {})
        return any(_changed(v, a.get(k), depth + 1) for k, v in b.items() if isinstance(v, (np.ndarray, tuple, list, dict)))
    return False


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

def _compare(f, arrays, values, labels, *, dout, layout, batch_size, rtol, seed, title,
             ok_note="All gradients agree with finite differences.", head="gradient", explain=None,
             known_factors=None):
    """Inspect the returned gradients, check the usable ones with check_gradients, report.

    f: called as f(**arrays) (scalar, or array when dout is given); arrays: name -> float64 array;
    values: name -> what the student returned for it; labels: display names ("dW"), same order.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    names = tuple(arrays)
    label_of = dict(zip(names, labels))
    name_of = dict(zip(labels, names))
    shapes = {g: arrays[g].shape for g in names}
    problems, analytic, transposed = {}, {}, {}
    for g in names:
        arr, problem = _inspect_array(values[g], label_of[g], shapes[g])
        if problem:
            problems[g] = problem
            v = values[g]
            if (problem[0] == "shape" and isinstance(v, np.ndarray) and v.ndim == 2 and v.T.shape == shapes[g]
                    and v.dtype == np.float64 and np.all(np.isfinite(v))):
                transposed[label_of[g]] = v.T
        else:
            analytic[label_of[g]] = arr
    by_label = {label_of[g]: arrays[g] for g in names}
    layout = {label_of[g]: layout.get(g, layout.get(label_of[g])) for g in names
              if layout and (g in layout or label_of[g] in layout)} or None

    def f_labels(**kw):
        return f(**{name_of[k]: v for k, v in kw.items()})

    report = None
    with _quiet():
        if transposed:   # a 2-D gradient of the transposed shape: is its transpose right?
            rescue = check_gradients(f_labels, by_label, transposed, dout=dout, rtol=rtol, seed=seed,
                                     raise_on_failure=False)
            for label in transposed:
                if rescue[label].ok:
                    problems[name_of[label]] = ("transpose", (
                        f"{label} has shape {transposed[label].T.shape}, the transpose of {format_shape(shapes[name_of[label]])}, "
                        f"and its transpose is the right gradient: you computed {label}^T. Swap the order of the "
                        "factors (and transpose each), e.g. dW = dout^T x rather than x^T dout."))
        if analytic:
            report = check_gradients(f_labels, by_label, analytic, dout=dout, layout=layout, batch_size=batch_size,
                                     rtol=rtol, seed=seed, raise_on_failure=False, known_factors=known_factors)
    return _report_and_raise(title, labels, labels, {label_of[g]: shapes[g] for g in names},
                             {label_of[g]: p for g, p in problems.items()}, report, seed, ok_note, head,
                             explain=explain and (lambda ok: explain({label_of[g]: values[g] for g in names}, ok)))


def _prefixed(label, message):
    return message if message.startswith(label + " ") else f"{label}: {message}"


def _report_and_raise(title, labels, names, shapes, problems, report, seed, ok_note, head="gradient",
                      explain=None):
    """Print the headline (if any), the per-tensor table and the diagnoses; raise if anything is wrong.

    explain: called with {label: passed?} when something is wrong; returns (headline, labels whose
    own diagnosis adds nothing) or None. With a headline, the vague "no simple pattern" lines go.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    rows, kinds, diagnoses = [], {}, {}
    for name, label in zip(names, labels):
        if name in problems:
            kinds[label], diagnoses[label] = problems[name][0], (problems[name][1], False)
            rows.append((label, format_shape(shapes[name]), "-", f"WRONG ({kinds[label]})"))
        elif report is not None:
            r = report[name]
            if not r.ok:
                kinds[label], diagnoses[label] = r.diagnosis.kind, (r.diagnosis.message, _is_vague(r.diagnosis))
            rows.append(r.cells(label))
    said = explain({label: label not in kinds for label in labels}) if (kinds and explain) else None
    headline, quiet = said if said else ("", set())
    if headline:
        print(headline + "\n")
    print(f"{title} (seed {seed})")
    print(format_table((head,) + TABLE_HEAD[1:], rows))
    if kinds:
        messages = [_prefixed(label, text) for label, (text, vague) in diagnoses.items()
                    if label not in quiet and not (vague and headline)]
        text = "\n".join(([headline] if headline else []) + messages)
        print("\n" + "\n".join(messages) if messages else "")
        refuted = (report is not None and not report.ok) or "transpose" in kinds.values()
        if not refuted:
            raise BadReturn(text, kinds)
        raise WrongGradient(text, kinds, report)
    print(ok_note)
    global last_report
    last_report = report
    return None


def _is_vague(diagnosis) -> bool:
    """A diagnosis that names no pattern (it ends in diagnosis.NO_PATTERN)."""
    return bool(diagnosis.details.get("vague"))


def _explainer(slips, stages, run):
    """The `explain` hook of _compare: a matching known slip first, else the reasoning across tensors.

    slips: Slip objects; run(slip.fn) -> {label: result} on the inputs the student got (or None).
    stages: Stage objects for `across_tensors` (may be empty).
    """
    if not slips and not stages:
        return None

    def explain(got, ok):
        candidates = ((slip, _run_quietly(run, slip.fn)) for slip in slips)
        slip = matching_slip(got, candidates) if slips else None
        if slip is not None:
            return f"Recognised mistake: {slip.words}", set()
        return across_tensors(ok, stages) if stages else None

    return explain


def _relabel(values: Mapping, names: Sequence[str], labels: Sequence[str]) -> dict:
    """{name: value} -> {label: value} ("W" -> "dW")."""
    return {label: values[name] for name, label in zip(names, labels)}


def _run_quietly(run, fn):
    """run(fn) for a slip, its warnings kept off stderr; None if it cannot run on these inputs."""
    with _quiet():
        return run_slip(run, fn)


def check_layer_backward(student_backward: Callable, forward: Callable, inputs: Mapping[str, np.ndarray],
                         grad_names, *, seed: int = 0, forward_kwargs: Optional[Mapping] = None,
                         layout: Optional[Mapping[str, str]] = None, batch_size: Optional[int] = None,
                         rtol: float = DEFAULT_RTOL, name: Optional[str] = None, block: bool = True,
                         allow: Iterable[str] = (), also: Iterable[str] = (), slips: Sequence = (),
                         stages: Sequence = (), known_factors: Optional[Mapping] = None):
    """Check a layer's backward pass against finite differences of its forward pass.

    student_backward: called as student_backward(dout, cache); returns the gradients named in
        grad_names, in that order (a tuple; a bare array when there is one name; or a dict).
    forward: the (reference) forward, called as forward(**inputs, **forward_kwargs) -> (out, cache).
    inputs: name -> float64 array, the forward's array arguments (copied, never modified).
    grad_names: the inputs the backward returns gradients for, in its return order, e.g.
        ("x", "W", "b"); or one name, e.g. "x" for a pooling layer.
    seed: draws dout = standard normal of out's shape (and the checker's random samples).
    The checked scalar is sum(forward(...)[0] * dout). Prints a table (gradient, shape, relative
    error, result) and returns None (the report is in `last_report`); raises a GradingError with the diagnosis otherwise.
    Also fails when the backward changes dout or the cache in place.
    slips: known slips (backprop.slips.Slip, fn called like student_backward); one whose result
        equals the student's is named first. stages: backprop.explain.Stage objects, from the
        output back to the input, for the headline that says where the error enters.
    known_factors: as in check_function_gradients.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    grad_names = (grad_names,) if isinstance(grad_names, str) else tuple(grad_names)
    fname = name or getattr(student_backward, "__name__", "your backward")
    forward_kwargs = dict(forward_kwargs or {})
    unknown = [g for g in grad_names if g not in inputs]
    if unknown:
        raise ValueError(f"grad_names {unknown} are not among the inputs {list(inputs)}")
    arrays = {k: np.array(v, dtype=np.float64) for k, v in inputs.items()}
    # A stream of its own: with the plain seed, dout would equal an input drawn by random_inputs(seed).
    rng = np.random.default_rng([seed, 0xD0])
    with _quiet():
        out, cache = forward(**{k: v.copy() for k, v in arrays.items()}, **forward_kwargs)
    out = np.asarray(out, dtype=np.float64)
    dout = rng.standard_normal(out.shape)
    dout_given, cache_before = dout.copy(), _snapshot(cache)

    result = call_student(student_backward, dout_given, cache, name=fname, block=block, allow=allow, also=also)
    _refuse_changed_dout_or_cache(fname, (dout, dout_given), (cache_before, cache))

    labels = tuple("d" + g for g in grad_names)
    values = _split_result(result, grad_names, labels, fname)
    fixed = {k: v for k, v in arrays.items() if k not in grad_names}

    def f(**kw):
        return forward(**kw, **fixed, **forward_kwargs)[0]

    def run(fn):
        return _relabel(_split_result(fn(dout.copy(), _snapshot(cache)), grad_names, labels, fname), grad_names, labels)

    return _compare(f, {g: arrays[g] for g in grad_names}, values, labels, dout=dout, layout=layout,
                    batch_size=batch_size, rtol=rtol, seed=seed,
                    title=f"{fname}: gradients against finite differences",
                    explain=_explainer(slips, stages, run), known_factors=known_factors)


def _refuse_changed_dout_or_cache(fname, douts, caches):
    """BadReturn if a backward changed dout or the cache; douts, caches: (before, after) pairs."""
    __tracebackhide__ = True
    if _changed(*douts):
        raise BadReturn(f"{fname} changed dout in place (for example `dout[mask] = 0`). A backward pass must "
                        "not modify its inputs: work on a copy (dout.copy()) or build a new array.")
    if _changed(*caches):
        raise BadReturn(f"{fname} changed the cache in place. A backward pass must not modify what the "
                        "forward pass stored: work on copies.")


def check_function_gradients(student_fn: Callable, loss_fn: Callable, inputs: Mapping[str, object], wrt,
                             *, seed: int = 0, returns_loss: bool = False, layout: Optional[Mapping[str, str]] = None,
                             batch_size: Optional[int] = None, rtol: float = DEFAULT_RTOL, name: Optional[str] = None,
                             block: bool = True, allow: Iterable[str] = (), also: Iterable[str] = (),
                             slips: Sequence = (), stages: Sequence = (), known_factors: Optional[Mapping] = None):
    """Check the gradients of a scalar loss that a student's function returns.

    student_fn: called as student_fn(**inputs) (copies of the arrays). Returns the gradients with
        respect to the names in `wrt`: a dict keyed by those names (or "d" + name), a tuple in
        the order of `wrt`, or a bare array when wrt has one name. With returns_loss=True it
        returns (loss, gradients) and the loss is compared with loss_fn's too.
    loss_fn: the (reference) loss, called as loss_fn(**inputs); returns a scalar, or a tuple
        whose first element is the scalar loss.
    inputs: name -> value; the names in `wrt` must be float64 arrays, the rest (labels, settings)
        is passed along unchanged.
    slips, stages: as in check_layer_backward (a slip's fn is called like student_fn).
    known_factors: {"phi'(U)": array, ...}: element-wise quantities the check knows; a gradient that is
        the right one times (or divided by) one of them is diagnosed as such (see backprop.diagnosis).
    Prints the table and returns None; raises a GradingError with the diagnosis otherwise.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    fname = name or getattr(student_fn, "__name__", "your function")
    unknown = [g for g in wrt if g not in inputs]
    if unknown:
        raise ValueError(f"wrt {unknown} are not among the inputs {list(inputs)}")
    arrays = {k: (np.array(v, dtype=np.float64) if k in wrt else v) for k, v in inputs.items()}
    fixed = {k: v for k, v in arrays.items() if k not in wrt}

    def loss(**kw):
        value = loss_fn(**kw, **fixed)
        return value[0] if isinstance(value, tuple) else value

    student_inputs = {k: _copy_tree(v) for k, v in arrays.items()}
    result = call_student(student_fn, name=fname, block=block, allow=allow, also=also, **student_inputs)
    labels = tuple("d" + g for g in wrt)
    if returns_loss:
        with _quiet():
            true_loss = float(loss(**{g: arrays[g].copy() for g in wrt}))
        candidates = ((slip, _loss_and_grads(run_slip(slip.fn, **{k: _copy_tree(v) for k, v in arrays.items()}),
                                             wrt, labels, fname)) for slip in slips)
        result = _check_returned_loss(result, true_loss, fname, wrt, labels, candidates)
    values = _split_result(result, wrt, labels, fname)

    def run(fn):
        out = fn(**{k: _copy_tree(v) for k, v in arrays.items()})
        return _relabel(_split_result(out[1] if returns_loss else out, wrt, labels, fname), wrt, labels)

    return _compare(loss, {g: arrays[g] for g in wrt}, values, labels, dout=None, layout=layout,
                    batch_size=batch_size, rtol=rtol, seed=seed,
                    title=f"{fname}: gradients of the loss against finite differences",
                    explain=_explainer(slips, stages, run), known_factors=known_factors)


def _loss_and_grads(result, wrt, labels, fname) -> Optional[dict]:
    """(loss, gradients) -> {"loss": loss, "dW": ..., ...}, or None when it cannot be read that way."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return None
    try:
        return {"loss": result[0], **_relabel(_split_result(result[1], wrt, labels, fname), wrt, labels)}
    except GradingError:
        return None


def _check_returned_loss(result, true_loss, fname, wrt, labels, candidates):
    """The gradients of a (loss, gradients) result once its loss is right; a wrong loss raises, with the
    known slip (candidates: (Slip, {"loss": ..., "dW": ...})) that returns the same loss and gradients."""
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise BadReturn(f"{fname} should return (loss, gradients); it returned a {type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    student_loss, grads = result
    try:
        arr, problem = _inspect_array(student_loss, "the loss", (), what="value")
        if problem:
            raise BadReturn(f"{fname}: {problem[1]}", {"loss": problem[0]})
        if not np.isclose(float(arr), true_loss, rtol=1e-7, atol=1e-12):
            ratio = float(arr) / true_loss if true_loss else float("nan")
            raise WrongValue(f"{fname} returned the loss {float(arr):.10g}, but the loss is {true_loss:.10g} "
                             f"(ratio {ratio:.4g}). Check the forward pass and the loss's normalisation.",
                             {"loss": "value"})
    except GradingError as err:
        got = _loss_and_grads(result, wrt, labels, fname)
        slip = matching_slip(got, candidates, right={"loss": true_loss}) if got else None
        if slip is None:
            raise
        raise _headlined(err, slip) from None
    return grads


def check_derivative(student_df: Callable, f: Callable, x=None, *, shape=(3, 4), seed: int = 0,
                     from_output: bool = False, avoid_kinks: bool = True, scale: float = 2.0,
                     rtol: float = DEFAULT_RTOL, name: Optional[str] = None, block: bool = True,
                     allow: Iterable[str] = (), also: Iterable[str] = (), slips: Sequence = ()):
    """Check an element-wise derivative against central differences of f.

    student_df: called as student_df(u) and must return f'(u) element-wise (same shape as u);
        with from_output=True it is called as student_df(f(u)) (f' written with y = f(u)).
    f: the element-wise function (reference), any shape in, same shape out.
    x: the points (float64 array); by default normal(0, scale) of `shape`, kept 0.1*scale away
        from 0 when avoid_kinks.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    fname = name or getattr(student_df, "__name__", "your derivative")
    if x is None:
        x = random_inputs({"u": shape}, seed, scale=scale, avoid_kinks=avoid_kinks)["u"]
    x = np.array(x, dtype=np.float64)
    with _quiet():
        arg = np.asarray(f(x.copy()), dtype=np.float64) if from_output else x.copy()
    result = call_student(student_df, arg, name=fname, block=block, allow=allow, also=also)
    return _compare(lambda u: np.sum(f(u)), {"u": x}, {"u": result}, (fname,), dout=None, layout=None,
                    batch_size=None, rtol=rtol, seed=seed, title=f"{fname}: derivative against central differences",
                    ok_note="The derivative agrees with finite differences.", head="derivative",
                    explain=_explainer(slips, (), lambda fn: {fname: fn(arg.copy())}))


def _expected_what(expected) -> str:
    """'integer' for an int, a numpy integer or an integer array; 'value' otherwise."""
    if isinstance(expected, bool):
        return "value"
    if isinstance(expected, (int, np.integer)):
        return "integer"
    return "integer" if isinstance(expected, np.ndarray) and expected.dtype.kind in "iu" else "value"


def _value_mismatch(name: str, arr, expected_arr, close) -> str:
    """The sentence that says how a value differs from the expected one."""
    if arr.ndim == 0:
        fmt = "d" if arr.dtype.kind in "iu" else ".10g"
        msg = f"{name} is not right: expected {expected_arr[()]:{fmt}}, got {arr[()]:{fmt}}."
        if float(expected_arr) != 0 and np.isfinite(float(arr)) and arr.dtype.kind == "f":
            msg += f" That is {float(arr) / float(expected_arr):.4g} times the expected value."
        return msg
    idx = tuple(int(i) for i in np.argwhere(~close)[0])
    msg = (f"{name} is not right: {np.count_nonzero(~close)} of {close.size} entries differ; "
           f"expected {expected_arr[idx]:.10g} at index {idx}, got {arr[idx]:.10g}.")
    if np.all(expected_arr != 0):
        ratio = arr / expected_arr
        if np.allclose(ratio, ratio.flat[0], rtol=1e-6):
            msg += f" Every entry is {ratio.flat[0]:.6g} times the right one."
    return msg


def check_value(got, expected, *, name: str = "the result", rtol: float = 1e-7, atol: float = 0.0,
                hint: str = "", what: Optional[str] = None):
    """Compare a value (number or array) with the expected one; raise WrongValue with the difference.

    `got` is usually the return value of call_student(...). `hint` is appended to the message.
    what: "integer" (a size, a count: compared exactly; Python int, numpy integers, 0-d arrays
        and whole-number floats are all accepted), "value" (any real number or array, compared
        with rtol/atol) or "gradient" (float64 only). Default: "integer" when `expected` is an
        int, a numpy integer or an integer array, else "value".
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    what = what or _expected_what(expected)
    expected_arr = np.asarray(expected, dtype=np.int64 if what == "integer" else np.float64)
    arr, problem = _inspect_array(got, name, expected_arr.shape, what=what)
    if problem:
        raise BadReturn(problem[1] + (" " + hint if hint else ""), {name: problem[0]})
    if what == "integer":
        close = arr == expected_arr
    else:
        arr = np.asarray(arr, dtype=np.float64)
        close = np.isclose(arr, expected_arr, rtol=rtol, atol=atol)
    if not np.all(close):
        raise WrongValue(_value_mismatch(name, arr, expected_arr, np.asarray(close)) + (" " + hint if hint else ""),
                         {name: "value"})
    print(f"{name}: ok")
    return None


def check_values_slips(got: Mapping, expected: Mapping, candidates: Iterable = (), **kwargs):
    """check_value for each name of `expected`; when one is wrong, the known slip whose values equal
    the student's is named first ("Recognised mistake: ...").

    got, expected: name -> value (the name is what messages call it, e.g. "clipped['Wx']").
    candidates: pairs (Slip, {name: that slip's value on the same inputs}, or None if it cannot run).
    kwargs: rtol, atol, hint, what, as for check_value. Prints "<name>: ok" per value.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    try:
        for name, value in expected.items():
            check_value(got[name], value, name=name, **kwargs)
    except GradingError as err:
        slip = matching_slip(got, candidates, right=expected)
        if slip is None:
            raise
        raise _headlined(err, slip) from None


def check_value_slips(got, expected, *, slips: Sequence = (), name: str = "the result", **kwargs):
    """check_values_slips for one value; slips: pairs (Slip, the value that slip gives on the same inputs)."""
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    return check_values_slips({name: got}, {name: expected}, ((s, {name: v}) for s, v in slips), **kwargs)


def _headlined(err: GradingError, slip) -> GradingError:
    """The same failure, printed and raised with the slip's words first."""
    headline = f"Recognised mistake: {slip.words}"
    print(headline)
    new = type(err)(f"{headline}\n{err}", err.kinds)
    if hasattr(err, "report"):
        new.report = err.report
    return new


def expect_wrong(check: Callable, *args, kind=None, **kwargs):
    """Run a check that is expected to FAIL: for a formula implemented exactly as a source writes it.

    check: one of the checks above (check_function_gradients, check_layer_backward, check_derivative);
        args and kwargs are passed to it.
    kind: the diagnosis the wrong formula should get ("sign", "scale", "transpose", "shape",
        "partial", ...) or a collection of acceptable kinds; None accepts any refutation.
    Passes (returns None) when the checker refutes the formula with such a kind.
    Fails when the checker confirms it ("implement the formula exactly as written, slip and
    all"), when the code is not implemented or crashes, or when it calls the reference.
    """
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    kinds = None if kind is None else ({kind} if isinstance(kind, str) else set(kind))
    try:
        check(*args, **kwargs)
    except (WrongGradient, BadReturn, WrongValue) as err:
        found = set(err.kinds.values())
        if kinds is not None and not (found & kinds):
            raise WrongGradient(
                "the checker does refute this formula, but not with the expected diagnosis: expected "
                f"{' or '.join(sorted(kinds))}, got {', '.join(sorted(found)) or 'another failure'}. Implement the "
                "formula exactly as the source writes it.\n" + str(err), err.kinds) from None
        print(f"\nAs expected, the checker refutes this formula ({', '.join(sorted(found))}).")
        return None
    raise WrongGradient(
        "the checker accepts this formula, but the formula as the source writes it is wrong. Implement it "
        "exactly as written, slip included (the corrected version belongs in the next exercise).", {})
