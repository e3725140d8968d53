#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (base image: Ubuntu 22.04).
# It installs Python @PYTHON@ (the version the course was tested with) and the course's pinned
# packages (requirements.txt) in @VENV@, installs `backprop` from course/lib, and creates the
# unprivileged user the students' code runs as. Nothing here runs per submission.
#
# For a dry run outside Gradescope (the tests do this): SETUP_SKIP_APT=1 and SETUP_SKIP_USER=1 skip
# the system changes, BACKPROP_VENV=/some/dir puts the environment elsewhere.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${BACKPROP_VENV:-@VENV@}"
PYVER="@PYTHON@"
GRADER_USER="${AUTOGRADER_USER:-student}"

if [ -z "${SETUP_SKIP_APT:-}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if ! apt-get install -y -qq "python$PYVER" "python$PYVER-venv" >/dev/null; then
        echo "python$PYVER is not in this image's package lists: using the image's python3 instead"
        apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
    fi
fi
PY="$(command -v "python$PYVER" || command -v python3)"
echo "setup.sh: $("$PY" -V) -> $VENV"

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
if ! "$VENV/bin/python" -m pip install -q -r "$SRC/requirements.txt"; then
    echo "setup.sh: the pinned versions do not install on $("$PY" -V); installing the course's version bounds"
    "$VENV/bin/python" -m pip install -q -r "$SRC/requirements-bounds.txt"
fi
"$VENV/bin/python" -m pip install -q --no-deps "$SRC/course"
"$VENV/bin/python" -c "import backprop, nbgrader; print('setup.sh: backprop and nbgrader import')"

if [ -z "${SETUP_SKIP_USER:-}" ]; then
    id -u "$GRADER_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$GRADER_USER"
    chmod -R go-rwx "$SRC"          # solutions and hidden tests: root only
    chmod -R a+rX "$VENV"
fi
echo "setup.sh: done"
