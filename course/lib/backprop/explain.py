"""Reasoning across the gradients of one check: which are right, where the error enters.

A backward pass computes its gradients in stages, from the loss back to the input: the output
layer's (dW2, db2) from delta^2, then delta^1 from delta^2, then (dW1, db1) from delta^1, and so
on. When some gradients are right and others wrong, the first wrong stage says where the error
enters, and every later wrong stage is computed from that wrong error signal: it needs no
diagnosis of its own. A check describes its stages once:

    MLP_STAGES = (Stage(("dW2", "db2"), "at the output: check delta^2 = dE/dy * sigma'(z^2)"),
                  Stage(("dW1", "db1"), "between layer 2 and layer 1: check sigma'(z^1) and the step "
                                        "from delta^2 to delta^1"))

and `across_tensors(ok, MLP_STAGES)` returns the headline and the labels whose own messages add
nothing ("consequences").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

__all__ = ["Stage", "layer_stages", "across_tensors", "join_names"]


@dataclass(frozen=True)
class Stage:
    """Gradients computed from one error signal, and where to look if the error enters there.

    labels: the gradients' display names, e.g. ("dW2", "db2").
    enters: completes "the error enters ...", e.g. "between layer 2 and layer 1: check sigma'(z^1)".
    """

    labels: tuple
    enters: str


def layer_stages(L: int, at_output: str, between) -> tuple:
    """The stages of an L-layer network's parameter gradients (dW{l}, db{l}), from layer L down to 1.

    at_output: where to look when the error enters at the output layer ("at the output: check ...").
    between: l -> what to check in the step from layer l + 1 down to layer l.
    """
    stages = [Stage((f"dW{L}", f"db{L}"), at_output)]
    stages += [Stage((f"dW{l}", f"db{l}"), f"between layer {l + 1} and layer {l}: {between(l)}")
               for l in range(L - 1, 0, -1)]
    return tuple(stages)


def join_names(names: Sequence[str]) -> str:
    """["a"] -> "a"; ["a", "b", "c"] -> "a, b and c"."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def across_tensors(ok: Mapping[str, bool], stages: Sequence[Stage]) -> Optional[tuple]:
    """(headline, consequences) for the gradients of one check, or None when there is nothing to say.

    ok: label -> True if that gradient passed; labels not in any stage are ignored.
    stages: from the loss back to the input (see the module docstring).
    consequences: the set of wrong labels in stages after the first wrong one.
    When a gradient computed from the first wrong stage's error signal is right (in that stage, or
    in a later one while nothing later is wrong), the signal is right and the error is in how the
    wrong gradients are formed from it: the headline says so instead of "the error enters".
    """
    ordered = [(i, label) for i, stage in enumerate(stages) for label in stage.labels if label in ok]
    wrong = [(i, label) for i, label in ordered if not ok[label]]
    if not wrong or len(ordered) < 2:
        return None
    first = wrong[0][0]
    entering = [label for i, label in wrong if i == first]
    later = [label for i, label in wrong if i > first]
    witnesses = [label for i, label in ordered if ok[label] and (i == first or (i > first and not later))]
    right = [label for _, label in ordered if ok[label] and label not in witnesses]
    parts = [f"{join_names(right)} right; "] if right else []
    if witnesses:
        parts.append(f"{join_names(entering)} wrong, although {join_names(witnesses)}, computed from the same "
                     f"error signal, {_is(witnesses)} right: the error is in how {join_names(entering)} "
                     f"{_is(entering)} formed from that signal, not in the signal itself.")
    elif later and any(ok[label] for i, label in ordered if i > first):
        # some gradients after the first wrong stage are right, others wrong: no single place to name
        return f"{join_names(right)} right; {join_names(entering + later)} wrong.", set()
    else:
        parts.append(f"{join_names(entering)} wrong: the error enters {stages[first].enters}.")
    if later:
        parts.append(f" {join_names(later)} {_is(later)} computed from that wrong error signal, so "
                     f"{'it is' if len(later) == 1 else 'they are'} wrong as a consequence: fix the step above first.")
    return "".join(parts), set(later)


def _is(names) -> str:
    return "is" if len(names) == 1 else "are"
