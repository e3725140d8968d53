"""backprop: the reference implementation behind the backpropagation course.

Forward/backward pairs for every layer the course teaches, a gradient checker that tells a
student *why* a gradient is wrong, data, plots, widgets and the grading helpers used by the
notebooks' test cells. Arrays are float64 numpy arrays; shapes are in every docstring.
"""
from .activations import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .dense import dense_forward, dense_backward  # noqa: F401
# Each line below is owned by the module it names; add new modules on their own line.
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .gradcheck import (  # noqa: F401
    numerical_gradient, numerical_vjp, check_gradients, relative_error, GradientCheckError, GradCheckReport,
)
from .diagnose import diagnose, Diagnosis  # noqa: F401
from .models import init_mlp, mlp_forward, mlp_loss_and_grads  # noqa: F401
from . import explore, widgets  # noqa: F401  (interactive explorers; ipywidgets is imported only when one is built)
from . import grading  # noqa: F401  (helpers for the graded notebook cells)
from .rnn import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .train import *  # noqa: F401,F403
from .plots import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .derivations import DerivationCheck, check_derivation, assert_derivation, check_step, assert_step  # noqa: F401
from .recipes import LENET5_RECIPES, Recipe, LeNet5Result, train_lenet5, random_shift, random_affine, cosine_schedule  # noqa: F401
