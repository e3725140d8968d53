"""The vocabulary of derivation steps: symbols, contexts, steps and their known slips.

Plain data types and the SymPy function `sigma`, shared by the checker (`backprop.derivations`)
and the course's catalogue of steps (`backprop.derivation_steps`). This module imports neither,
so the catalogue is data that the checker reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

__all__ = ["sigma", "FUNCTIONS", "Context", "Slip", "Step", "symbols", "md_escape"]


class sigma(sp.Function):
    """The logistic function sigma(u) = 1 / (1 + exp(-u)); its derivative is sigma (1 - sigma)."""

    def fdiff(self, argindex=1):
        s = sigma(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))


FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt, "tanh": sp.tanh, "sinh": sp.sinh,
    "cosh": sp.cosh, "sech": sp.sech, "sigma": sigma, "Sum": sp.Sum, "sum": sp.Sum,
    "KroneckerDelta": sp.KroneckerDelta, "Abs": sp.Abs, "abs": sp.Abs, "e": sp.E,
}


@dataclass
class Context:
    """What a step's answer may use and how the checker evaluates it.

    names        text the student may type -> SymPy object (Symbol, IndexedBase, ...), besides FUNCTIONS
    sample       Symbol or IndexedBase -> (lo, hi) uniform floats, ("int", lo, hi) integers, or
                 callable(values_by_name, rng) -> float for constrained symbols (sampled in order)
    definitions  Symbol -> expression it stands for; IndexedBase -> callable(*indices) -> expression
    scale_symbols  symbols such as n whose powers count as "a missing factor" (1/n, n)
    """

    names: dict
    sample: dict
    definitions: dict = field(default_factory=dict)
    scale_symbols: tuple = ()

    def known(self) -> str:
        own = ", ".join(sorted(k for k in self.names))
        funcs = ", ".join(k for k in FUNCTIONS if k not in ("sum", "abs", "ln", "e"))
        return f"symbols: {own}; functions: {funcs}"


@dataclass(frozen=True)
class Slip:
    """A common wrong answer of a step, recognised by value, with the message it deserves."""

    expr: str
    kind: str
    message: str


@dataclass(frozen=True)
class Step:
    """One derivation step of the course: prompt, expected expression, symbols and known slips."""

    key: str
    notebook: str
    prompt: str
    expected: str
    context: Context
    slips: tuple = ()
    factors: dict = field(default_factory=dict)       # "sigma'(u) = y(1 - y)" -> "y*(1 - y)"
    factor_hints: dict = field(default_factory=dict)  # str(ratio yours/expected) -> message
    in_terms_of: tuple = ()                           # names the prompt asks for; others accepted with a note
    alternatives: tuple = ()                          # (expression, note) also accepted

    def _repr_markdown_(self):
        allowed = md_escape(self.context.known())
        return f"**{self.key}** ({self.notebook}): {md_escape(self.prompt)}\n\nAllowed {allowed}."


def md_escape(text: str) -> str:
    """Escape * and _ so Markdown shows them literally."""
    return text.replace("*", "\\*").replace("_", "\\_")


def symbols(names: str) -> dict:
    """{"t": Symbol("t"), ...} for the space-separated `names`."""
    return {n: sp.Symbol(n) for n in names.split()}
