"""Grading on Gradescope with the course's own grading (see README, "Grading on Gradescope").

build.py   `make gradescope`: autograder/dist/gradescope/<assignment>.zip (and course.zip, every notebook)
grade.py   what run_autograder runs in the container: grades $AUTOGRADER_ROOT/submission, writes results.json
report.py  results.json from the autograded notebooks (names, scores, outputs in markdown)
check.py   `make gradescope-check SUBMISSION=...`: the same run locally, printed as a student sees it
setup.sh, run_autograder   the templates that go to the root of every zip
"""
