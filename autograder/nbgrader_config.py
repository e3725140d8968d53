"""nbgrader configuration of the backprop course.

Layout (relative to the repository root):

    solutions/<assignment>/<notebook>.ipynb             source: instructor notebooks (committed)
    course/<assignment>/<notebook>.ipynb                release: student notebooks (committed, generated)
    autograder/submitted/<student>/<assignment>/...      submissions, one folder per student (git-ignored)
    autograder/autograded/<student>/<assignment>/...     graded copies (git-ignored)
    autograder/feedback/<student>/<assignment>/...html   HTML feedback (git-ignored)
    autograder/gradebook.db                              SQLite gradebook (git-ignored)

nbgrader joins {root}/{step directory}/{student}/{assignment}; the source and release steps have
no student ("."), so "../solutions" and "../course" resolve to the repository's folders.
Run nbgrader from this directory (the Makefile and the scripts here do).
"""
import os

c = get_config()  # noqa: F821 - provided by nbgrader

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "backprop"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = os.path.join("..", "solutions")
c.CourseDirectory.release_directory = os.path.join("..", "course")
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# timeout: parallel autograde workers wait for each other's short writes instead of failing.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db") + "?timeout=60"
# Everything in an assignment folder except these is copied to the student version.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Students appear in the gradebook when their submission is graded; assignments when generated.
c.Autograde.create_student = True
c.GenerateAssignment.create_assignment = True

# A cell that runs longer than this is stopped and scores zero (an infinite loop costs one cell).
c.Execute.timeout = 120
c.Execute.startup_timeout = 120
c.Execute.kernel_name = "python3"

# The stub students see in place of ### BEGIN SOLUTION ... ### END SOLUTION.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# The release must not carry outputs; feedback shows the graded notebook.
c.ClearOutput.enabled = True

# Feedback HTML: the autograded notebook minus the hidden tests (sources and tracebacks).
import sys  # noqa: E402

if HERE not in sys.path:
    sys.path.insert(0, HERE)
from feedback_filters import HideHiddenTests  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Hostile submissions (autograder/sandbox.py): each kernel runs under a memory limit; a kernel that
# dies (os._exit, segfault, memory) is restarted and the rest of the notebook still graded; before
# each graded test cell the checker, numpy and builtins are restored; stderr in graded cells does
# not zero them; output per cell is capped; edited or deleted test cells are restored with a note;
# the kernel reads and writes only what it needs (Landlock, where the OS has it).
from nbgrader.converters import Autograde  # noqa: E402
from nbgrader.preprocessors import Execute, OverwriteCells  # noqa: E402
from sandbox import GuardedExecute, RestoreLockedCells, ScrubHiddenOutputs  # noqa: E402

_defaults = Autograde.class_traits()
c.Autograde.sanitize_preprocessors = [RestoreLockedCells if p is OverwriteCells else p
                                      for p in _defaults["sanitize_preprocessors"].make_dynamic_default()]
c.Autograde.autograde_preprocessors = [GuardedExecute if p is Execute else p
                                       for p in _defaults["autograde_preprocessors"].make_dynamic_default()]
c.GuardedExecute.memory_limit_mb = 2048
# Feedback: output lines that quote a hidden test (printed by student code) are replaced.
c.GenerateFeedback.preprocessors = [p for q in c.GenerateFeedback.preprocessors
                                    for p in ((ScrubHiddenOutputs, q) if q is HideHiddenTests else (q,))]
