#!/usr/bin/env bash
# The course's one entry point on a fresh machine that has Python 3.11 and git.
#
#   bash dev.sh demo    set up, release every week, grade the bundled sample submissions,
#                       write grades CSV + feedback HTML, print a summary table
#   bash dev.sh test    set up and run the whole test suite (what CI runs)
#   bash dev.sh lab     set up and open JupyterLab on the student notebooks
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

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  demo)  setup; exec "$PY" -m autograder demo "$@" ;;
  test)  setup; exec "$PY" -m pytest "$@" ;;
  lab)   setup; unset MPLBACKEND; exec "$PY" -m jupyter lab notebooks "$@" ;;
  *)     sed -n '2,10p' "$0"; exit 2 ;;
esac
