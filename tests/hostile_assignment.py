"""A tiny nbgrader assignment and the hostile submissions that attack it (tests/test_hostile_submissions.py).

The assignment `zz_hostile` has three exercises graded through backprop.grading:
    dense_backward  (test_dense_backward, 2 points, hidden tests)
    sigmoid_grad    (test_sigmoid_grad,   1 point,  hidden tests)
    double          (test_double,         1 point)
Each hostile student is the solution notebook with some cells replaced (`STUDENTS`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "autograder"))

from nbbuild import code, md, solution, test, write  # noqa: E402

ASSIGNMENT = "zz_hostile"
NOTEBOOK = "zz_hostile.ipynb"
POINTS = {"test_dense_backward": 2.0, "test_sigmoid_grad": 1.0, "test_double": 1.0}
HIDDEN_MARK = "hidden_only_seed_4711"   # text that appears only in the hidden tests

DENSE = '''
def dense_backward(dout, cache):
    """dout (N, M), cache = (x, W, b) -> (dx (N, D), dW (M, D), db (M,))."""
    ### BEGIN SOLUTION
    x, W, b = cache
    return dout @ W, dout.T @ x, dout.sum(axis=0)
    ### END SOLUTION
'''
SIGMOID = '''
def sigmoid_grad(u):
    """Derivative of the logistic sigmoid at u (any shape)."""
    ### BEGIN SOLUTION
    s = 1.0 / (1.0 + np.exp(-u))
    return s * (1.0 - s)
    ### END SOLUTION
'''
DOUBLE = '''
def double(x):
    """2 * x for an array x."""
    ### BEGIN SOLUTION
    return 2.0 * x
    ### END SOLUTION
'''
TEST_DENSE = f'''
from backprop.grading import check_layer_backward, random_inputs
from backprop import dense_forward
check_layer_backward(dense_backward, dense_forward, random_inputs({{"x": (4, 3), "W": (2, 3), "b": (2,)}}, seed=1),
                     ("x", "W", "b"), seed=1)
### BEGIN HIDDEN TESTS
{HIDDEN_MARK} = [(11, 1, 3, 2), (12, 5, 2, 4)]
for seed, n, d, m in {HIDDEN_MARK}:
    check_layer_backward(dense_backward, dense_forward,
                         random_inputs({{"x": (n, d), "W": (m, d), "b": (m,)}}, seed=seed), ("x", "W", "b"), seed=seed)
### END HIDDEN TESTS
'''
TEST_SIGMOID = '''
import numpy as np
from backprop.grading import check_derivative
check_derivative(sigmoid_grad, lambda u: 1.0 / (1.0 + np.exp(-u)), seed=2)
### BEGIN HIDDEN TESTS
for seed in range(3, 6):
    check_derivative(sigmoid_grad, lambda u: 1.0 / (1.0 + np.exp(-u)), shape=(2, 5), seed=seed)
### END HIDDEN TESTS
'''
TEST_DOUBLE = '''
import numpy as np
from backprop.grading import call_student, check_value, random_inputs
x = random_inputs({"x": (3, 2)}, seed=3)["x"]
check_value(call_student(double, x.copy()), 2 * x, name="double(x)")
'''


def build_source(folder: Path) -> Path:
    """Write solutions/zz_hostile/zz_hostile.ipynb under `folder` (the course root)."""
    return write(Path(folder) / "solutions" / ASSIGNMENT / NOTEBOOK, [
        md("# A tiny assignment for the hostile-submission tests"),
        code("import numpy as np"),
        solution("dense_backward", DENSE),
        test("test_dense_backward", TEST_DENSE, points=2),
        solution("sigmoid_grad", SIGMOID),
        test("test_sigmoid_grad", TEST_SIGMOID, points=1),
        solution("double", DOUBLE),
        test("test_double", TEST_DOUBLE, points=1),
    ])


def _replace_cell(nb: dict, grade_id: str, source: str) -> None:
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = source.strip("\n")
            return
    raise KeyError(grade_id)


def _insert_after(nb: dict, grade_id: str, source: str) -> None:
    """A new plain code cell (as a student would add) after the cell `grade_id`."""
    for i, cell in enumerate(nb["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            nb["cells"].insert(i + 1, {"cell_type": "code", "execution_count": None, "id": f"student-{i}",
                                       "metadata": {}, "outputs": [], "source": source.strip("\n")})
            return
    raise KeyError(grade_id)


def _delete(nb: dict, grade_id: str) -> None:
    nb["cells"] = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id]


def fn(name: str, body: str, args: str) -> str:
    return f"import numpy as np\ndef {name}({args}):\n" + "\n".join("    " + l for l in body.strip("\n").splitlines())


WRONG_DENSE = fn("dense_backward", "x, W, b = cache\nreturn -(dout @ W), -(dout.T @ x), -dout.sum(axis=0)", "dout, cache")
WRONG_SIGMOID = fn("sigmoid_grad", "return np.zeros_like(u) + 0.3", "u")
WRONG_DOUBLE = fn("double", "return 3.0 * x", "x")


# Each student: a function (notebook dict) -> None editing the solution notebook, the graded cells
# expected to score 0 (every other graded cell must keep its points), and words expected in the
# output of those cells.
def _loop(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", "while True:\n    pass", "dout, cache"))


def _deaf_loop(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                           "while True:\n    pass", "dout, cache"))


def _exit(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", "import os\nos._exit(3)", "dout, cache"))


def _segfault(nb):
    _replace_cell(nb, "sigmoid_grad", fn("sigmoid_grad", "import ctypes\nreturn ctypes.string_at(0)", "u"))


def _memory(nb):
    _replace_cell(nb, "double", fn("double", "hoard = []\nwhile True:\n    hoard.append(np.ones(10**7))", "x"))


def _edit_test(nb):
    _replace_cell(nb, "dense_backward", WRONG_DENSE)
    _replace_cell(nb, "test_dense_backward", "print('all good')")


def _delete_test(nb):
    _replace_cell(nb, "sigmoid_grad", WRONG_SIGMOID)
    _delete(nb, "test_sigmoid_grad")


def _patch_checker(nb):
    _replace_cell(nb, "dense_backward", WRONG_DENSE)
    _replace_cell(nb, "double", WRONG_DOUBLE)
    _insert_after(nb, "double", """
import sys, types
import backprop, backprop.grading as G
G.check_layer_backward = lambda *a, **k: None
G.check_value = lambda *a, **k: None
fake = types.ModuleType("backprop.grading")
fake.__dict__.update(vars(G))
fake.check_derivative = lambda *a, **k: None
sys.modules["backprop.grading"] = fake
backprop.grading = fake
""")
    _replace_cell(nb, "sigmoid_grad", WRONG_SIGMOID)


def _patch_numpy(nb):
    _replace_cell(nb, "dense_backward", WRONG_DENSE)
    _replace_cell(nb, "sigmoid_grad", WRONG_SIGMOID)
    _replace_cell(nb, "double", WRONG_DOUBLE)
    _insert_after(nb, "double", """
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, **k: np.ones(np.shape(a), dtype=bool)
np.all = lambda *a, **k: True
np.abs = lambda x, *a, **k: 0 * x
""")


def _patch_builtins(nb):
    _replace_cell(nb, "dense_backward", WRONG_DENSE)
    _replace_cell(nb, "sigmoid_grad", WRONG_SIGMOID)
    _replace_cell(nb, "double", WRONG_DOUBLE)
    _insert_after(nb, "double", """
import builtins
class AssertionError(Exception):
    pass
builtins.AssertionError = AssertionError
print = lambda *a, **k: None
sum = lambda *a, **k: 0.0
range = lambda *a: []
len = lambda x: 0
""")


def _patch_ipython(nb):
    _replace_cell(nb, "dense_backward", WRONG_DENSE)
    _replace_cell(nb, "sigmoid_grad", WRONG_SIGMOID)
    _replace_cell(nb, "double", WRONG_DOUBLE)
    _insert_after(nb, "double", """
ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"] if any("check_" in l for l in lines) else lines)
""")


def _reference(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", "import backprop\nreturn backprop.dense_backward(dout, cache)",
                                           "dout, cache"))


def _reference_caught(nb):
    _replace_cell(nb, "dense_backward", fn(
        "dense_backward",
        "from backprop import dense\ntry:\n    return dense.dense_backward(dout, cache)\nexcept Exception:\n"
        "    x, W, b = cache\n    return dout @ W, dout.T @ x, dout.sum(axis=0)", "dout, cache"))


def _bad_returns(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", "x, W, b = cache\nreturn dout @ W, x.T @ dout, dout.sum(axis=0)",
                                           "dout, cache"))
    _replace_cell(nb, "sigmoid_grad", fn("sigmoid_grad", "s = 1 / (1 + np.exp(-u))\nreturn (s * (1 - s)).astype(np.float32)", "u"))
    _replace_cell(nb, "double", fn("double", "return [2 * v for v in x.ravel()]", "x"))


def _bad_values(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", "x, W, b = cache\nreturn dout @ W, dout.T @ x / 0.0, dout.sum(axis=0)",
                                           "dout, cache"))
    _replace_cell(nb, "sigmoid_grad", fn("sigmoid_grad", "s = 1 / (1 + np.exp(-u))\ns * (1 - s)", "u"))
    _replace_cell(nb, "double", fn("double", "return (2 * x)[:, 0]", "x"))


def _noisy(nb):
    _replace_cell(nb, "dense_backward", fn("dense_backward", """
import sys, os, warnings
for i in range(3000):
    print("debug line", i)
warnings.warn("this is only a warning")
print("to stderr", file=sys.stderr)
os.write(2, b"raw stderr bytes\\n")
np.log(np.zeros(1))
x, W, b = cache
return dout @ W, dout.T @ x, dout.sum(axis=0)""", "dout, cache"))
    _insert_after(nb, "dense_backward", "import sys\nprint('noise ' * 10, file=sys.stderr)\nfor i in range(100000): print(i)")


def _snoop(nb):
    """Correct code that also tries to read the solutions, the gradebook and other submissions,
    to print the hidden tests of the cell that calls it, and to stop the grader."""
    _replace_cell(nb, "dense_backward", fn("dense_backward", """
import inspect, linecache
caller = inspect.currentframe().f_back
while caller is not None:
    if "ipykernel" in caller.f_code.co_filename or caller.f_code.co_filename.startswith("<"):
        print("".join(linecache.getlines(caller.f_code.co_filename)))   # the test cell that called me
    caller = caller.f_back
x, W, b = cache
return dout @ W, dout.T @ x, dout.sum(axis=0)""", "dout, cache"))
    _insert_after(nb, "dense_backward", """
import glob, os
for pattern in ["../../../gradebook.db", "../../../../solutions/*/*.ipynb", "../../*/zz_hostile/*.ipynb"]:
    for path in glob.glob(pattern):
        if "snoop" in path:
            continue
        try:
            print(open(path, "rb").read()[:5000].decode("latin-1"))
        except OSError as exc:
            print("blocked:", type(exc).__name__)
try:
    open("../../a_good/zz_hostile/zz_hostile.ipynb", "a").write("damage")
except OSError as exc:
    print("write blocked:", type(exc).__name__)
try:
    os.kill(os.getppid(), 15)
except OSError as exc:
    print("signal blocked:", type(exc).__name__)
""")


def _shadow(nb):
    _replace_cell(nb, "dense_backward", WRONG_DENSE)
    _replace_cell(nb, "sigmoid_grad", WRONG_SIGMOID)
    _replace_cell(nb, "double", WRONG_DOUBLE)


# Files a student adds next to the notebook: a fake backprop whose checks accept anything.
FAKE_GRADING = """
import numpy as np
def _accept(*args, **kwargs):
    print("all checks passed")
check_layer_backward = check_function_gradients = check_derivative = check_value = expect_wrong = _accept
def call_student(fn, *args, **kwargs):
    return None
def random_inputs(shapes, seed, **kwargs):
    return {k: np.zeros(v) for k, v in shapes.items()}
"""
EXTRA_FILES = {
    "shadow": {"backprop/__init__.py": "from .grading import *\ndef dense_forward(x, W, b):\n    return x, None\n",
               "backprop/grading.py": FAKE_GRADING},
}


STUDENTS = {
    # student: (edit, graded cells scoring 0, words in their output)
    "a_good": (None, [], []),
    "loop": (_loop, ["test_dense_backward"], ["CellTimeoutError", "still running"]),
    "deaf_loop": (_deaf_loop, ["test_dense_backward"], ["CellTimeoutError", "KernelUnresponsive"]),
    "exit": (_exit, ["test_dense_backward"], ["KernelDied", "restarted"]),
    "segfault": (_segfault, ["test_sigmoid_grad"], ["KernelDied"]),
    "memory": (_memory, ["test_double"], ["MemoryError"]),
    "edit_test": (_edit_test, ["test_dense_backward"], ["sign", "restored"]),
    "delete_test": (_delete_test, ["test_sigmoid_grad"], ["restored"]),
    "patch_checker": (_patch_checker, list(POINTS), []),
    "patch_numpy": (_patch_numpy, list(POINTS), []),
    "patch_builtins": (_patch_builtins, list(POINTS), []),
    "patch_ipython": (_patch_ipython, list(POINTS), []),
    "reference": (_reference, ["test_dense_backward"], ["reference", "no credit"]),
    "reference_caught": (_reference_caught, ["test_dense_backward"], ["reference", "even when the error is caught"]),
    "bad_returns": (_bad_returns, list(POINTS), ["transpose", "float32", "list"]),
    "bad_values": (_bad_values, list(POINTS), ["NaN or infinite", "is None", "shape"]),
    "noisy": (_noisy, [], ["characters of output cut"]),
    "snoop": (_snoop, [], []),
    "shadow": (_shadow, list(POINTS), []),
}

# Submissions that are not a gradable notebook: folder name -> how to break it, words in the report.
BROKEN = {
    "renamed": ("renamed", ["zz_hostile.ipynb", "renamed"]),
    "missing": ("missing", ["no notebook"]),
    "not_json": ("not_json", ["not a valid notebook"]),
}


def as_released(nb: dict) -> dict:
    """What a student holds: solution markers gone (the solutions stay, as if written by the
    student), hidden tests gone from the test cells."""
    from markers import HIDDEN, SOLUTION, cell_source, marker, public_text  # autograder/ is on sys.path

    for cell in nb["cells"]:
        src = public_text(cell_source(cell), (HIDDEN,))
        cell["source"] = "\n".join(l for l in src.splitlines()
                                   if l.strip() not in (marker("BEGIN", SOLUTION), marker("END", SOLUTION)))
    return nb


def submit_all(root: Path, source: Path) -> None:
    """Write every student's submission to root/autograder/submitted/<student>/zz_hostile/."""
    base = as_released(json.loads(Path(source).read_text()))
    sub = Path(root) / "autograder" / "submitted"
    for student, (edit, _, _) in STUDENTS.items():
        nb = json.loads(json.dumps(base))
        if edit:
            edit(nb)
        dest = sub / student / ASSIGNMENT
        dest.mkdir(parents=True, exist_ok=True)
        (dest / NOTEBOOK).write_text(json.dumps(nb, indent=1))
        for name, text in EXTRA_FILES.get(student, {}).items():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_text(text)
    for student, (how, _) in BROKEN.items():
        dest = sub / student / ASSIGNMENT
        dest.mkdir(parents=True, exist_ok=True)
        if how == "renamed":
            (dest / "zz_hostile (1).ipynb").write_text(json.dumps(base, indent=1))
        elif how == "not_json":
            (dest / NOTEBOOK).write_text(json.dumps(base, indent=1)[: 2000])
