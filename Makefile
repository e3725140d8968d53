# Entry points of the backprop course. `make lab` and `make test` are all a fresh clone needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2
ASSIGNMENT ?=
NBGRADER := cd autograder && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ../$(VENV)/bin/nbgrader

# Parallel test workers and grading jobs: one BLAS thread each, or small matrix products fight for cores.
test test-fast autograde: export OPENBLAS_NUM_THREADS = 1
test test-fast autograde: export OMP_NUM_THREADS = 1
test test-fast autograde: export MKL_NUM_THREADS = 1

# jupyter refuses to run as root without --allow-root
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test test-fast browser-deps release autograde feedback grades bench student-bundle gradescope gradescope-check lite clean help

help:
	@echo "make lab        install (first time) and open the course in JupyterLab"
	@echo "make test       install (first time) and run the whole test suite"
	@echo "make release    generate the student notebooks in course/ from solutions/"
	@echo "make autograde  grade every submission in autograder/submitted/ (JOBS=$(JOBS) in parallel)"
	@echo "make feedback   write HTML feedback to autograder/feedback/"
	@echo "make grades     grades.csv (nbgrader) and grades_by_student.csv in autograder/; CANVAS=export.csv fills a Canvas import"
	@echo "make bench      run the performance benchmarks and print tables"
	@echo "make student-bundle  build student-bundle.zip: what students receive"
	@echo "make gradescope  autograder zips for Gradescope in autograder/dist/gradescope/ (one per notebook, course.zip)"
	@echo "make gradescope-check SUBMISSION=nb.ipynb  run such a zip locally and print what the student sees"
	@echo "make lite       build dist/lite/: the course as a static JupyterLite site (runs in the browser)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped"; \
	  else echo "chromium missing and apt-get unavailable: browser tests will be skipped"; fi; \
	fi

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=course $(ROOT_FLAG)

test: setup browser-deps
	$(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=20

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser" -n $(JOBS)

release: setup
	$(PY) autograder/release.py

autograde: setup
	$(PY) autograder/autograde.py --jobs $(JOBS) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT),)

feedback: setup
	$(PY) autograder/feedback.py $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT),)

# CANVAS=export.csv: also fill a Canvas gradebook export (autograder/canvas_import.csv)
grades: setup
	$(PY) autograder/grades.py $(if $(CANVAS),--canvas "$(CANVAS)",)

# PyTorch is an optional oracle for the benchmarks only (a local CPU wheel); the course never needs it.
bench: setup
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0 \
	  || echo "PyTorch not available: the torch columns will be skipped"
	$(PY) benchmarks/run_all.py $(BENCH)

student-bundle: setup
	$(PY) autograder/student_bundle.py

gradescope: setup
	$(PY) autograder/gradescope/build.py $(ASSIGNMENT)

gradescope-check: gradescope
	@test -n "$(SUBMISSION)" || (echo "usage: make gradescope-check SUBMISSION=path/to/notebook.ipynb" && exit 2)
	$(PY) autograder/gradescope/check.py "$(SUBMISSION)"

# The browser edition: its build tools go into build/lite-venv/, downloads into build/lite-cache/.
lite:
	$(PYTHON) lite/build.py

clean:
	rm -rf $(VENV) .pytest_cache autograder/submitted autograder/autograded autograder/feedback autograder/gradebook.db
