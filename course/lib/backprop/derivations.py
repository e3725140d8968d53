"""Derivation steps checked as mathematics, with SymPy.

A student answers one step of a derivation (dE/dy, sigma'(u) in terms of y, one step of the
delta recursion, ...) as a string such as ``"-(t - y)"`` or as a SymPy expression. The checker

1. parses the string safely: every name must be one of the step's symbols or a whitelisted
   function (exp, log, tanh, sigma, Sum, ...); nothing is ever passed to Python's ``eval``
   unchecked, and inputs that are too long or that would build huge numbers are refused;
2. compares the answer with the expected expression at many random points (fast and robust:
   it never hangs), after replacing every symbol by what it stands for (y -> sigma(u) ->
   1/(1 + exp(-u))), so expanded, factored, sigma- and exp-forms all count;
3. confirms equality symbolically when the expression is small enough for SymPy to simplify
   quickly (otherwise the numeric verdict stands and says so);
4. otherwise says how the answer differs: a known slip of this step (with a targeted
   message), the wrong sign, a constant or 1/n factor, a missing named factor such as
   sigma'(u), swapped indices of a weight matrix, or simply a different expression.

    >>> check_step("mlp.dE_dy.half", "y - t").ok
    True
    >>> check_step("mlp.dE_dy.half", "t - y").kind
    'sign'

`check_step` / `check_derivation` return a `DerivationCheck` (prints as text, renders as
Markdown with LaTeX in Jupyter) and never raise; `assert_step` / `assert_derivation` raise an
AssertionError carrying the same message, for graded cells. Nothing is written to stderr.
The catalogue of the course's steps is `STEPS` (key -> `Step`).
"""
from __future__ import annotations

import cmath
import difflib
import io
import keyword
import tokenize
import warnings
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import auto_number, convert_xor, implicit_multiplication, parse_expr
from sympy.tensor.indexed import Indexed, IndexedBase

from .derivation_steps import STEPS
from .derivation_types import FUNCTIONS, Context, Slip, Step, md_escape, sigma, symbols
from .rules import nice_fraction

__all__ = [
    "DerivationCheck", "Context", "Slip", "Step", "STEPS", "sigma",
    "parse_answer", "check_derivation", "assert_derivation", "check_step", "assert_step", "step_symbols",
]

MAX_CHARS = 400          # a derivation step fits on a line or two
MAX_OPS = 250            # operations in the parsed expression
MAX_EXPONENT = 1000      # |numeric exponent| allowed
N_POINTS = 12            # random points per comparison
_RTOL = 1e-8


_UNICODE = {"σ": "sigma", "λ": "lam", "η": "eta", "δ": "delta",
            "·": "*", "×": "*", "−": "-", "–": "-", "²": "**2"}
_OPS = {"+", "-", "*", "/", "**", "^", "(", ")", "[", "]", ","}
_SAFE_GLOBALS = {
    "Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Add": sp.Add, "Mul": sp.Mul,
    "Pow": sp.Pow, "Tuple": sp.Tuple, "__builtins__": {},
}


class _Invalid(Exception):
    """The answer cannot be checked (malformed, unknown symbol, wrong type); message for the student."""


# --------------------------------------------------------------------------- verdicts
@dataclass
class DerivationCheck:
    """The verdict on one answer. Truthy when correct; prints as text, renders in Jupyter."""

    ok: bool
    kind: str                  # ok, sign, factor, missing_factor, index, different, invalid
    message: str
    latex: str = ""            # the student's expression
    diff_latex: str = ""       # yours - expected, when wrong
    text: str = ""
    diff_text: str = ""
    method: str = ""           # how equality was established
    factor: object = None      # yours / expected, for kind "factor"
    step: str | None = None

    def __bool__(self):
        return self.ok

    def _title(self):
        titles = {"ok": "correct", "sign": "wrong sign", "factor": "off by a factor",
                  "missing_factor": "a factor is missing or extra", "index": "indices swapped",
                  "different": "not equal to the expected expression", "invalid": "cannot check this answer"}
        return titles.get(self.kind, self.kind)

    def __str__(self):
        mark = "OK" if self.ok else "WRONG" if self.kind != "invalid" else "INVALID"
        lines = [f"{mark} ({self._title()}){' - ' + self.step if self.step else ''}"]
        if self.text:
            lines.append(f"  your expression: {self.text}")
        if self.diff_text:
            lines.append(f"  yours - expected: {self.diff_text}")
        lines.append(f"  {self.message}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self):
        mark = "✅" if self.ok else "❌"
        out = [f"{mark} **{self._title()}**" + (f" (`{self.step}`)" if self.step else "")]
        if self.latex:
            out.append(f"Your expression: $\\displaystyle {self.latex}$")
        if self.diff_latex:
            out.append(f"Yours − expected: $\\displaystyle {self.diff_latex}$")
        out.append(md_escape(self.message))
        return "\n\n".join(out)


# --------------------------------------------------------------------------- parsing
def parse_answer(answer, context: Context):
    """Return the SymPy expression for `answer` in `context`, or raise _Invalid with a clear message."""
    if answer is None:
        raise _Invalid("No answer yet: replace None with your expression, written as a string in quotes.")
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float, sp.Basic)):
        raise _Invalid(f"Expected your expression as a string (or a SymPy expression); got {type(answer).__name__}: "
                       f"{_short(repr(answer))}.")
    if isinstance(answer, float) and not np.isfinite(answer):
        raise _Invalid(f"Your answer is the number {answer}, not an expression.")
    if isinstance(answer, (int, float)):
        return sp.nsimplify(answer) if isinstance(answer, float) and np.isfinite(answer) else sp.sympify(answer)
    if isinstance(answer, sp.Basic):
        expr = _adopt(answer, context)
        _check_numbers(expr)
        return expr
    text = answer
    for k, v in _UNICODE.items():
        text = text.replace(k, v)
    text = " ".join(text.split())  # newlines and tabs become spaces
    if not text:
        raise _Invalid("Your answer is an empty string: write your expression between the quotes.")
    if len(text) > MAX_CHARS:
        raise _Invalid(f"Your answer is {len(text)} characters long; a derivation step fits in {MAX_CHARS}. "
                       "Simplify it before submitting.")
    if "=" in text:
        raise _Invalid("Write only the right-hand side, without '=' (e.g. \"2*x\", not \"d/dx x**2 = 2*x\").")
    _check_tokens(text, context)
    local = {**FUNCTIONS, **context.names}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = parse_expr(text, local_dict=local, global_dict=dict(_SAFE_GLOBALS),
                             transformations=(auto_number, convert_xor, implicit_multiplication), evaluate=False)
            _check_numbers(raw)
            expr = parse_expr(text, local_dict=local, global_dict=dict(_SAFE_GLOBALS),
                              transformations=(auto_number, convert_xor, implicit_multiplication))
    except _Invalid:
        raise
    except Exception as exc:  # SyntaxError, TypeError ('Symbol' object is not callable), ...
        raise _Invalid(_explain_parse_error(text, exc)) from None
    if isinstance(expr, (tuple, list, sp.Tuple)) or not isinstance(expr, sp.Expr):
        raise _Invalid(f"Your answer parses as {_short(str(expr))}, which is not a single expression.")
    if sp.count_ops(expr) > MAX_OPS:
        raise _Invalid(f"Your expression has more than {MAX_OPS} operations; simplify it before submitting.")
    return expr


def _check_tokens(text, context):
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise _Invalid("Syntax error: the parentheses or brackets do not match.") from None
    known = {**FUNCTIONS, **context.names}
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if tok.type == tokenize.NAME:
            if tok.string in known:
                continue
            if keyword.iskeyword(tok.string):
                raise _Invalid(f"'{tok.string}' is Python, not part of a formula. Write sums as "
                               "Sum(term, (k, 1, K)); known " + context.known())
            close = difflib.get_close_matches(tok.string, list(known), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise _Invalid(f"Unknown symbol '{_short(tok.string, 30)}'.{hint} Known {context.known()}.")
        elif tok.type == tokenize.NUMBER:
            if tok.string[-1] in "jJ" or len(tok.string) > 20:
                raise _Invalid(f"The number {_short(tok.string)} is not allowed here: use ordinary real numbers.")
        elif tok.type == tokenize.OP and tok.string in _OPS:
            continue
        elif tok.type == tokenize.COMMENT:
            raise _Invalid("A comment (#) cannot go inside the answer string: put it after the closing quote.")
        elif tok.type == tokenize.STRING or "'" in tok.string or '"' in tok.string:
            raise _Invalid("A quote or prime (') cannot be parsed: write the derivative out as an expression "
                           "(sigma'(u) and f'(z) are not valid input; use what they equal).")
        else:
            raise _Invalid(f"Syntax error: '{tok.string}' is not allowed. Use + - * / ** ( ) [ ] , "
                           f"and the known {context.known()}.")


def _check_numbers(raw):
    """Refuse numeric sub-expressions that would become astronomically large when evaluated."""
    for node in sp.postorder_traversal(raw):
        if not isinstance(node, sp.Pow):
            continue
        if not node.exp.free_symbols:
            value = _float_or_none(node.exp)
            if value is None or abs(value) > MAX_EXPONENT:
                raise _Invalid(f"The exponent {_short(str(node.exp))} is too large; exponents up to "
                               f"{MAX_EXPONENT} are allowed.")
            if not node.base.free_symbols and _float_or_none(node) is None:
                raise _Invalid(f"The number {_short(str(node))} is not a finite number of reasonable size "
                               "(a division by zero, or a huge power?).")


def _float_or_none(expr):
    try:
        value = complex(sp.N(expr, 15))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None
    if not np.isfinite(value) or abs(value) > 1e300:
        return None
    return value.real if value.imag == 0 else abs(value)


def _explain_parse_error(text, exc):
    msg = str(exc)
    if "not subscriptable" in msg:
        return f"Cannot parse {_short(text)!r}: a plain symbol takes no index here (write y, not y[...])."
    if "not callable" in msg:
        return f"Cannot parse {_short(text)!r}: a symbol is used like a function ({msg}). Write products with '*'."
    if isinstance(exc, SyntaxError) or "invalid syntax" in msg:
        return f"Syntax error in {_short(text)!r}: check operators and parentheses (products need '*' or a space)."
    return f"Cannot parse {_short(text)!r}: {type(exc).__name__}: {_short(msg)}"


def _adopt(expr, context):
    """Map a SymPy expression built by the student onto the step's own symbols, by name."""
    if not isinstance(expr, sp.Expr):
        raise _Invalid(f"Expected an expression, got the SymPy object {_short(str(expr))} ({type(expr).__name__}).")
    known = {**FUNCTIONS, **context.names}
    mapping = {}
    plain = {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    for s in plain | {b.label for b in expr.atoms(IndexedBase)}:
        target = known.get(s.name)
        if target is None:
            raise _Invalid(f"Unknown symbol '{s.name}'. Known {context.known()}.")
        if isinstance(target, IndexedBase):
            target = target.label
        mapping[s] = target
    allowed = {v for v in FUNCTIONS.values() if isinstance(v, type)}
    for f in expr.atoms(sp.Function):
        if type(f) not in allowed and not isinstance(f, sp.core.function.AppliedUndef):
            raise _Invalid(f"The function {type(f).__name__} is not available here. Known {context.known()}.")
    for f in expr.atoms(sp.core.function.AppliedUndef):
        if not callable(known.get(type(f).__name__)) or isinstance(known.get(type(f).__name__), sp.Basic):
            raise _Invalid(f"Unknown function '{type(f).__name__}'. Known {context.known()}.")
    out = expr.xreplace(mapping)
    out = out.replace(lambda x: isinstance(x, sp.core.function.AppliedUndef),
                      lambda x: known[type(x).__name__](*x.args))
    bases = {b.label: b for b in (v for v in known.values() if isinstance(v, IndexedBase))}
    out = out.replace(lambda x: isinstance(x, Indexed) and x.base.label in bases,
                      lambda x: bases[x.base.label][x.indices])
    if sp.count_ops(out) > MAX_OPS:
        raise _Invalid(f"Your expression has more than {MAX_OPS} operations; simplify it before submitting.")
    return out


def _short(s, n=60):
    s = str(s)
    return s if len(s) <= n else s[: n - 3] + "..."


# --------------------------------------------------------------------------- numeric evaluation
class _EvalError(Exception):
    pass


def _to_base(expr, context):
    """Replace every defined symbol by what it stands for, and sigma by its exp form."""
    for _ in range(6):
        new = expr
        scalar = {k: v for k, v in context.definitions.items() if isinstance(k, sp.Symbol)}
        if scalar:
            new = new.xreplace(scalar)
        for base, fn in context.definitions.items():
            if isinstance(base, IndexedBase):
                new = new.replace(lambda x, b=base: isinstance(x, Indexed) and x.base == b,
                                  lambda x, f=fn: f(*x.indices))
        if new == expr:
            break
        expr = new
    return expr.replace(sigma, lambda a: 1 / (1 + sp.exp(-a)))


def _points(context, seed, n):
    """n random points: (index, integer substitutions, float substitutions); entries of indexed
    symbols are drawn lazily by `_entry`, keyed by their indices, so any expression sees the same values."""
    points = []
    for p in range(n):
        rng = np.random.default_rng([seed, p])
        ints, floats, by_name = {}, {}, {}
        for target, spec in context.sample.items():
            if isinstance(target, IndexedBase):
                continue
            if callable(spec):
                value = float(spec(by_name, rng))
            elif spec[0] == "int":
                value = int(rng.integers(spec[1], spec[2] + 1))
            else:
                value = float(rng.uniform(spec[0], spec[1]))
            by_name[target.name] = value
            if isinstance(value, int):
                ints[target] = sp.Integer(value)
            else:
                floats[target] = sp.Float(value)
        points.append((p, ints, floats))
    return points


def _entry(context, seed, p, name, idx):
    """The value of entry `idx` of the indexed symbol `name` at point p (the same for every expression)."""
    spec = next((s for b, s in context.sample.items() if isinstance(b, IndexedBase) and b.label.name == name),
                (-1.0, 1.0))
    rng = np.random.default_rng([seed, p, zlib.crc32(name.encode()), *(i + 1000 for i in idx)])
    return complex(rng.uniform(spec[0], spec[1]))


_NUMERIC_FUNCS = {sp.exp: cmath.exp, sp.log: cmath.log, sp.tanh: cmath.tanh, sp.sinh: cmath.sinh,
                  sp.cosh: cmath.cosh, sp.sech: lambda z: 1 / cmath.cosh(z), sp.Abs: abs,
                  sigma: lambda z: 1 / (1 + cmath.exp(-z))}


def _whole(value, what):
    if abs(value.imag) == 0 and abs(value.real) > 1000:
        raise _EvalError(f"{what} is {value.real:.3g}, too large: use index symbols and the size symbols")
    if abs(value.imag) > 0 or value.real != round(value.real):
        raise _EvalError(f"{what} must be a whole number (an index symbol such as j or k, or k + 1)")
    return int(round(value.real))


def _num(e, env, entry):
    """Evaluate a SymPy tree with Python complex arithmetic (fast; never builds new SymPy objects)."""
    if e.is_Number or isinstance(e, sp.NumberSymbol):
        return complex(e) if e.is_finite else complex("nan")
    if e in (sp.zoo, sp.nan, sp.oo, -sp.oo):
        return complex("nan")
    if isinstance(e, sp.Symbol):
        if e not in env:
            raise _EvalError(f"it contains {e}, which has no value here (a summation index used outside its Sum?)")
        return env[e]
    if isinstance(e, sp.Add):
        return sum((_num(a, env, entry) for a in e.args), 0j)
    if isinstance(e, sp.Mul):
        out = 1 + 0j
        for a in e.args:
            out *= _num(a, env, entry)
        return out
    if isinstance(e, sp.Pow):
        base, ex = _num(e.base, env, entry), _num(e.exp, env, entry)
        if ex.imag == 0 and ex.real == round(ex.real) and abs(ex.real) <= MAX_EXPONENT:
            return base ** int(round(ex.real))
        return base ** ex
    if isinstance(e, Indexed):
        idx = [_whole(_num(i, env, entry), f"the index {i} of {e}") for i in e.indices]
        return entry(e.base.label.name, idx)
    if isinstance(e, sp.Sum):
        return _num_sum(e.function, list(e.limits), env, entry)
    if isinstance(e, sp.KroneckerDelta):
        return complex(_num(e.args[0], env, entry) == _num(e.args[1], env, entry))
    if type(e) in _NUMERIC_FUNCS:
        return _NUMERIC_FUNCS[type(e)](_num(e.args[0], env, entry))
    raise _EvalError(f"cannot evaluate {_short(e)} numerically")


def _num_sum(term, limits, env, entry):
    if not limits:
        return _num(term, env, entry)
    (var, lo, hi), rest = limits[-1], limits[:-1]  # SymPy lists the innermost limit first
    lo = _whole(_num(lo, env, entry), "a lower sum limit")
    hi = _whole(_num(hi, env, entry), "an upper sum limit")
    if hi - lo > 200:
        raise _EvalError("sum limits span more than 200 terms: use the size symbols, e.g. Sum(term, (k, 1, K))")
    total = 0j
    for v in range(lo, hi + 1):
        total += _num_sum(term, rest, {**env, var: complex(v)}, entry)
    return total


def _value_at(expr, context, seed, point):
    p, ints, floats = point
    env = {s: complex(v) for s, v in ints.items()}
    env.update((s, complex(v)) for s, v in floats.items())
    try:
        return _num(expr, env, lambda name, idx: _entry(context, seed, p, name, idx))
    except (OverflowError, ZeroDivisionError, ValueError, TypeError):
        return complex("nan")


def _values(expr, context, seed, n):
    """Values of `expr` (already in base symbols) at the n random points of `context`."""
    with np.errstate(all="ignore"):
        return np.array([_value_at(expr, context, seed, pt) for pt in _points(context, seed, n)])


def _close(a, b):
    with np.errstate(all="ignore"):
        scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-6)
        return np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= _RTOL * scale)


# --------------------------------------------------------------------------- checking
def check_derivation(answer, expected, context: Context | None = None, *, slips=(), factors=None,
                     factor_hints=None, in_terms_of=(), alternatives=(), seed=0, n_points=N_POINTS,
                     step=None) -> DerivationCheck:
    """Compare `answer` (string or SymPy expression) with `expected` in `context`; never raises.

    expected      string (parsed in `context`) or SymPy expression; if it is malformed, ValueError
                  (the only exception raised: it is the author's mistake, not the student's)
    context       a `Context`; default: the course's generic symbols (t, y, u, n, x, w, ...)
    slips         known wrong answers (`Slip`) recognised first, with their own messages
    factors       {label: expression}: named factors whose absence is reported as missing_factor
    factor_hints  {str(yours / expected): message} for constant-factor slips, e.g. {"1/2": "..."}
    in_terms_of   names the question asks for; a correct answer using others gets a note
    alternatives  ((expression, note), ...) other forms also accepted
    """
    context = context or DEFAULT_CONTEXT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_expr = _reference(expected, context)  # an error here is the instructor's: it raises
    try:
        n_points = max(6, min(int(n_points), 200))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            values = _ValueSource(context, seed, n_points, step)
            return _check(answer, expected, expected_expr, context, values, tuple(slips), dict(factors or {}),
                          dict(factor_hints or {}), tuple(in_terms_of), tuple(alternatives), step)
    except _Invalid as exc:
        return DerivationCheck(False, "invalid", str(exc), step=step)
    except Exception as exc:  # a student's input must never crash a graded cell
        return DerivationCheck(False, "invalid", f"This answer could not be checked ({type(exc).__name__}: "
                               f"{_short(exc, 120)}). Write it as a plain expression in the listed symbols.",
                               step=step)


def assert_derivation(answer, expected, context: Context | None = None, **kwargs) -> DerivationCheck:
    """Like `check_derivation`, but raise AssertionError with the message unless the answer is right."""
    result = check_derivation(answer, expected, context, **kwargs)
    if not result.ok:
        raise AssertionError(str(result))
    return result


class _ValueSource:
    """Values at the random points; the catalogue's reference expressions are cached per step."""

    def __init__(self, context, seed, n, step):
        self.context, self.seed, self.n, self.step = context, seed, n, step

    def of_expr(self, expr):
        return _values(_to_base(expr, self.context), self.context, self.seed, self.n)

    def of_reference(self, text):
        if isinstance(text, str) and self.step in STEPS and STEPS[self.step].context is self.context:
            return _step_values(self.step, text, self.seed, self.n)
        return self.of_expr(_reference(text, self.context))

    def scale(self, symbol):
        return np.array([float((ints.get(symbol) or floats.get(symbol) or sp.nan))
                         for _, ints, floats in _points(self.context, self.seed, self.n)])


def _reference(text, context):
    """Parse an instructor's expression (errors here are bugs in the catalogue: they raise)."""
    if isinstance(text, sp.Basic):
        return text
    try:
        return parse_answer(text, context)
    except _Invalid as exc:
        raise ValueError(f"bad reference expression {text!r}: {exc}") from None


@lru_cache(maxsize=512)
def _step_values(key, text, seed, n):
    context = STEPS[key].context
    return _values(_to_base(_reference(text, context), context), context, seed, n)


def _check(answer, expected, expected_expr, context, values, slips, factors, factor_hints, in_terms_of,
           alternatives, step):
    expr = parse_answer(answer, context)
    shown = dict(latex=sp.latex(expr), text=sp.sstr(expr), step=step)
    try:
        a = values.of_expr(expr)
    except _EvalError as exc:
        return DerivationCheck(False, "invalid", f"Cannot evaluate your expression: {exc}.", **shown)
    e = values.of_reference(expected)
    valid = np.isfinite(e)

    def same(ref_values, sign=1.0):
        ok = valid & np.isfinite(ref_values)
        return ok.sum() >= max(3, values.n // 2) and bool(np.all(_close(a, sign * ref_values)[ok]))

    if same(e):
        return _correct(expr, expected_expr, context, in_terms_of, values.n, shown, note="")
    for alt, note in alternatives:
        if same(values.of_reference(alt)):
            return _correct(expr, expected_expr, context, (), values.n, shown, note=note)

    diff = _display_diff(expr, expected_expr)
    shown.update(diff_latex=sp.latex(diff), diff_text=sp.sstr(diff))
    for slip in slips:
        if same(values.of_reference(slip.expr)):
            return DerivationCheck(False, slip.kind, slip.message, **shown)
    kind, message, factor = _classify(a, e, valid, expr, expected_expr, context, values, factors, factor_hints,
                                      alternatives)
    return DerivationCheck(False, kind, message, factor=factor, **shown)


def _correct(expr, expected_expr, context, in_terms_of, n, shown, note):
    symbolic = _symbolically_equal(_to_base(expr, context), _to_base(expected_expr, context))
    method = "symbolic" if symbolic else f"numeric ({n} random points)"
    message = "Correct" + (" (confirmed symbolically)." if symbolic else
                           f" (equal at {n} random points; no symbolic proof: SymPy's simplification was skipped or "
                           "inconclusive, which is normal for sums and long expressions).")
    used = {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)} | \
           {i.base.label.name for i in expr.atoms(Indexed)}
    extra = sorted(used - set(in_terms_of)) if in_terms_of else []
    if extra:
        message += (f" Note: the question asks for it in terms of {', '.join(in_terms_of)} only; yours also uses "
                    f"{', '.join(extra)}. In code you have {', '.join(in_terms_of)} stored, so that form is cheaper.")
    if note:
        message += " " + note
    return DerivationCheck(True, "ok", message, method=method, **shown)


def _tame(expr, max_ops=60, max_int=24):
    """True when SymPy's simplify/factor can be trusted to finish quickly on `expr`: small, exact,
    small integers only (factor reads exp(1000000) as a polynomial of degree 10^6), small powers."""
    if expr.has(sp.Sum, Indexed) or expr.atoms(sp.Float) or sp.count_ops(expr) > max_ops:
        return False
    for r in expr.atoms(sp.Rational):
        if abs(r.p) > max_int or r.q > max_int:
            return False
    return True


def _symbolically_equal(a, b):
    d = a - b
    if d == 0:
        return True
    if not _tame(d, 80):
        return False
    for simplify in (sp.expand, lambda x: sp.cancel(sp.together(x)),
                     lambda x: sp.cancel(sp.together(x.rewrite(sp.exp))), sp.simplify):
        try:
            if simplify(d) == 0:
                return True
        except Exception:
            return False
    return False


def _display_diff(expr, expected_expr):
    d = expr - expected_expr
    candidates = [d]
    if _tame(d, 40, 12):
        for tidy in (sp.expand, sp.factor):
            try:
                candidates.append(tidy(d))
            except Exception:
                pass
    return min(candidates, key=sp.count_ops)


def _nice_number(c):
    """A SymPy Rational when c is a simple fraction (the course's one rule, `rules.nice_fraction`)."""
    frac = nice_fraction(c)
    return sp.Float(c, 6) if frac is None else sp.Rational(frac.numerator, frac.denominator)


def _constant(r):
    return len(r) >= 3 and bool(np.all(np.abs(r - r[0]) <= 1e-7 * max(1e-12, abs(r[0]))))


def _classify(a, e, valid, expr, expected_expr, context, values, factors, factor_hints, alternatives=()):
    finite = valid & np.isfinite(a)
    usable = finite & (np.abs(e) > 1e-12)
    undefined = bool(np.any(valid & ~np.isfinite(a)))
    if usable.sum() >= 3:
        r = a[usable] / e[usable]
        if np.all(np.abs(r.imag) < 1e-9):
            r = r.real
            if _constant(r) and abs(r[0]) > 1e-12:
                c = _nice_number(r[0])
                return _factor_verdict(c, factor_hints)
            for s in context.scale_symbols:
                sv = values.scale(s)[usable]
                for c_vec, make in ((r / sv, lambda c: c * s), (r * sv, lambda c: c / s)):
                    if _constant(c_vec) and abs(c_vec[0]) > 1e-12:
                        return _factor_verdict(make(_nice_number(c_vec[0])), factor_hints)
    for label, fexpr in factors.items():
        fv = values.of_reference(fexpr)
        for test, msg in (
            (a * fv, f"Your answer lacks the factor {label}: multiplied by it, it would be right."),
            (-a * fv, f"Your answer lacks the factor {label}, and its sign is wrong."),
            (a / fv, f"Your answer has an extra factor {label}: without it, it would be right."),
        ):
            ok = valid & np.isfinite(test)
            if ok.sum() >= 3 and np.all(_close(test, e)[ok]):
                return "missing_factor", msg, None
    for base in sorted({i.base for i in expr.atoms(Indexed) if len(i.indices) == 2}, key=str):
        swapped = expr.replace(lambda x, b=base: isinstance(x, Indexed) and x.base == b,
                               lambda x: x.base[x.indices[1], x.indices[0]])
        try:
            sv = values.of_expr(swapped)
        except _EvalError:
            continue
        refs = [e] + [values.of_reference(alt) for alt, _ in alternatives]
        if any(np.all(_close(sv, r)[valid & np.isfinite(sv)]) and (valid & np.isfinite(sv)).sum() >= 3
               for r in refs):
            hint = factor_hints.get("index", "")
            return "index", (f"The two indices of {base} are swapped: with every {base}[., .] read with its "
                             f"indices exchanged your answer would be right. {hint}").strip(), None
    return "different", _different_message(expr, expected_expr, context, a, values.n, undefined), None


def _factor_verdict(c, factor_hints):
    key = sp.sstr(c)
    if c == -1:
        return "sign", factor_hints.get(key, "Wrong sign: your answer is minus the expected expression. "
                                              "Check the sign of each factor in your chain rule."), c
    msg = f"Your answer is {key} times the expected expression."
    if c.is_negative:
        msg += " The sign is wrong as well."
    hint = factor_hints.get(key)
    if hint is None:
        if c.free_symbols:
            hint = "A factor like n or 1/n usually means a sum over samples was confused with a mean."
        else:
            hint = "Check every constant factor in your chain rule."
    return "factor", f"{msg} {hint}", c


def _names(expr):
    return ({s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)} |
            {i.base.label.name for i in expr.atoms(Indexed)})


def _different_message(expr, expected_expr, context, a, n, undefined):
    parts = [f"Your expression is not equal to the expected one (compared at {n} random points)."]
    if np.all(np.abs(a[np.isfinite(a)]) < 1e-14) and np.isfinite(a).any():
        parts.append("It is 0 everywhere: which dependence did you leave out?")
    if undefined:
        parts.append("It is undefined (a division by zero, or log/sqrt of a negative number) at some points "
                     "where the expected one is defined.")
    mine, right = _names(_to_base(expr, context)), _names(_to_base(expected_expr, context))
    if right - mine:
        parts.append(f"The right answer depends on {', '.join(sorted(right - mine))}; yours does not.")
    if mine - right:
        parts.append(f"Yours depends on {', '.join(sorted(mine - right))}; the right answer does not "
                     "(a summation index left outside its Sum?).")
    lim = lambda x: {(str(lo), str(hi)) for s in x.atoms(sp.Sum) for _, lo, hi in s.limits}
    if expr.has(sp.Sum) and expected_expr.has(sp.Sum) and lim(expr) != lim(expected_expr):
        parts.append("Check the limits of your sum: "
                     + "; ".join(f"from {lo} to {hi}" for lo, hi in sorted(lim(expected_expr))) + " here.")
    return " ".join(parts)


def check_step(key: str, answer, *, seed=0, n_points=N_POINTS) -> DerivationCheck:
    """Check the answer to the catalogued step `key` (see `STEPS`); never raises."""
    step = STEPS.get(key) if isinstance(key, str) else None
    if step is None:
        close = difflib.get_close_matches(str(key), list(STEPS), n=3)
        return DerivationCheck(False, "invalid", f"Unknown derivation step {key!r}. "
                               + (f"Did you mean {', '.join(close)}?" if close else f"Known: {', '.join(STEPS)}."))
    return check_derivation(answer, step.expected, step.context, slips=step.slips, factors=step.factors,
                            factor_hints=step.factor_hints, in_terms_of=step.in_terms_of,
                            alternatives=step.alternatives, seed=seed, n_points=n_points, step=key)


def assert_step(key: str, answer, *, seed=0, n_points=N_POINTS) -> DerivationCheck:
    """Like `check_step`, but raise AssertionError with the message unless the answer is right."""
    result = check_step(key, answer, seed=seed, n_points=n_points)
    if not result.ok:
        raise AssertionError(str(result))
    return result


def step_symbols(key: str) -> dict:
    """The SymPy objects a step's answer may use, for students who prefer building expressions."""
    return dict(STEPS[key].context.names)


# --------------------------------------------------------------------------- the default symbols
def _make_default():
    s = symbols("t y u n x w b z h eta lam")
    idx = symbols("i j k K J")
    bases = {n: IndexedBase(n) for n in ("W", "delta", "a")}
    sample = {v: (0.1, 0.9) for v in s.values()}
    sample[s["n"]] = ("int", 2, 9)
    sample.update({idx["i"]: ("int", 1, 4), idx["j"]: ("int", 1, 4), idx["k"]: ("int", 1, 4),
                   idx["K"]: ("int", 2, 4), idx["J"]: ("int", 2, 4)})
    return Context({**s, **idx, **bases, "lamda": s["lam"]}, sample, scale_symbols=(s["n"],))


DEFAULT_CONTEXT = _make_default()

