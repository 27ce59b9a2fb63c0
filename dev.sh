#!/usr/bin/env bash
# The course's one entry point on a fresh machine that has Python 3.11 and git.
#
#   bash dev.sh demo    set up, release every week, grade the bundled sample submissions,
#                       write grades CSV + feedback HTML, print a summary table
#   bash dev.sh test    set up and run the whole test suite (what CI runs)
#   bash dev.sh lab     set up, copy/update your workspace/ from notebooks/ (answers kept), open JupyterLab on it
#   bash dev.sh instructor  set up, open JupyterLab at the course root with formgrader (course-local exchange)
#   bash dev.sh setup   only create/refresh the virtual environment (.venv)
#
# Extra arguments go to the command: `bash dev.sh test -k week01 -x`.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

setup() {
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.course-installed" want
  want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing pinned requirements into $VENV (once)"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -r requirements.txt
    "$PY" -m pip install --quiet --no-deps -e .
    # a kernel spec that points at this environment's interpreter, whatever PATH says
    "$PY" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
    echo "$want" > "$stamp"
  fi
  export PATH="$PWD/$VENV/bin:$PATH"
  export MPLBACKEND=Agg
}

# Jupyter refuses to start as root without --allow-root; add it only then (containers, CI)
allow_root() { if [ "$(id -u)" = 0 ]; then echo --allow-root; fi; }

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  demo)  setup; exec "$PY" -m autograder demo "$@" ;;
  test)  setup; exec "$PY" -m pytest "$@" ;;
  lab)   setup; unset MPLBACKEND
         "$PY" -m autograder workspace
         # jupyter-config/student/: the student Jupyter — formgrader, create-assignment and the exchange panels off
         export JUPYTER_CONFIG_PATH="$PWD/jupyter-config/student${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
         exec "$PY" -m jupyter lab --ServerApp.root_dir=workspace $(allow_root) "$@" ;;
  instructor) setup; unset MPLBACKEND
         mkdir -p .exchange  # nbgrader's exchange, course-local (autograder/config.py EXCHANGE_DIR)
         exec "$PY" -m jupyter lab --ServerApp.root_dir=. $(allow_root) "$@" ;;
  *)     sed -n '2,11p' "$0"; exit 2 ;;
esac
