"""backprop: the reference implementation behind the backpropagation course.

Forward/backward pairs for every layer the course teaches, a gradient checker that tells a
student *why* a gradient is wrong, data, plots, widgets and the grading helpers used by the
notebooks' test cells. Arrays are float64 numpy arrays; shapes are in every docstring.

`import backprop` stays cheap: SymPy (the derivation checker), matplotlib (plots), ipywidgets
(explorers) and scikit-learn (data) are imported when a function that needs them is first used.
The derivation checker's names below (`check_step`, ...) load `backprop.derivations` on first
access. Every submodule is reachable under its own name (`backprop.train` is the module; the
trainer is `backprop.train.train`).
"""
from importlib import import_module as _import_module

from .activations import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .dense import dense_forward, dense_backward  # noqa: F401
# Each line below is owned by the module it names; add new modules on their own line.
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .gradcheck import (  # noqa: F401
    numerical_gradient, numerical_vjp, check_gradients, relative_error, GradientCheckError, GradCheckReport,
)
from .diagnosis import diagnose, Diagnosis  # noqa: F401
from .models import init_mlp, mlp_forward, mlp_loss_and_grads  # noqa: F401
from . import explore, widgets  # noqa: F401  (interactive explorers; ipywidgets is imported only when one is built)
from . import grading  # noqa: F401  (helpers for the graded notebook cells)
from .rnn import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .train import History, iterate_minibatches, sgd_step, accuracy, predict, confusion_matrix, step_decay  # noqa: F401
from . import train  # noqa: F401  (the module; calling it calls train.train, for older notebooks)
from .plots import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .recipes import LENET5_RECIPES, Recipe, LeNet5Result, train_lenet5, random_shift, random_affine, cosine_schedule  # noqa: F401

_LAZY = {name: "derivations" for name in
         ("DerivationCheck", "check_derivation", "assert_derivation", "check_step", "assert_step")}
"""Top-level names whose module imports SymPy: loaded on first access."""


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
