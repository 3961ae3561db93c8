# Charge Portal task runner: the same commands locally and in CI.
set shell := ["bash", "-euo", "pipefail", "-c"]
# Recipe arguments reach commands as "$@", each word as given: `just test -m "not slow"`
# keeps "not slow" one argument (interpolating the ARGS variable split it in two).
set positional-arguments := true

venv := ".venv"
py := venv / "bin/python"
stamp := venv / ".installed"

# List the recipes.
default:
    @just --list

# Create .venv and install the project with dev extras (re-run when pyproject.toml changes).
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x {{py}} ]; then
        python3.11 -m venv {{venv}} 2>/dev/null || python3 -m venv {{venv}}
    fi
    {{py}} -m pip install --quiet --upgrade pip
    {{py}} -m pip install --quiet -e '.[dev,postgres]'
    touch {{stamp}}

# Run setup only when .venv is missing or older than pyproject.toml.
_ensure:
    #!/usr/bin/env bash
    if [ ! -f {{stamp}} ] || [ pyproject.toml -nt {{stamp}} ]; then just setup; fi

# Create the database with demo data and an admin (printed once), then serve gateway + portal.
run *ARGS: _ensure
    {{venv}}/bin/chargeportal init-db --demo --if-new
    {{venv}}/bin/chargeportal serve "$@"

# The whole test suite, spread over the cores (PYTEST_WORKERS=0 runs it in one process).
test *ARGS: _ensure
    {{py}} -m pytest -q -p no:cacheprovider -n "${PYTEST_WORKERS:-auto}" "$@"

# Format check, lint and type check.
check: _ensure
    {{venv}}/bin/ruff format --check .
    {{venv}}/bin/ruff check .
    {{venv}}/bin/mypy

# Reformat and autofix lint findings.
fmt: _ensure
    {{venv}}/bin/ruff format .
    {{venv}}/bin/ruff check --fix .

# Run simulated stations against a central system (default: the local gateway).
sim *ARGS: _ensure
    {{venv}}/bin/chargeportal-sim "$@"

# Benchmarks: gateway vs baseline, sessions table; writes BENCHMARKS.md.
bench *ARGS: _ensure
    {{py}} -m benchmarks "$@"

# Add the notebooks extra (jupyterlab, ipywidgets, pandas, matplotlib) to .venv.
setup-notebooks: _ensure
    {{py}} -m pip install --quiet -e '.[dev,postgres,notebooks]'
    touch {{venv}}/.notebooks-installed

# JupyterLab on notebooks/ for support staff (CHARGEPORTAL_URL, CHARGEPORTAL_TOKEN: see README).
notebooks *ARGS: _ensure
    #!/usr/bin/env bash
    set -euo pipefail
    # the extra once (and again when pyproject.toml changes), not on every start
    if [ ! -f {{venv}}/.notebooks-installed ] || [ pyproject.toml -nt {{venv}}/.notebooks-installed ]; then
        just setup-notebooks
    fi
    export CHARGEPORTAL_URL="${CHARGEPORTAL_URL:-http://127.0.0.1:8000}"
    if [ -z "${CHARGEPORTAL_TOKEN:-}" ]; then
        echo "CHARGEPORTAL_TOKEN is not set: the notebooks will say so. Make one with" >&2
        echo "  .venv/bin/chargeportal token add --name \"${USER:-$(id -un)} notebooks\" --role support" >&2
        echo "and start again with CHARGEPORTAL_TOKEN=<its secret> just notebooks" >&2
    fi
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    # JupyterLab refuses to start as root (containers, CI boxes) without --allow-root
    root=()
    if [ "$(id -u)" = 0 ]; then root=(--allow-root); fi
    exec {{venv}}/bin/jupyter lab "${root[@]}" notebooks/ "$@"

# Benchmark (not a test): the browser walk of every role at 1,000 stations and 100,000 badges; writes its section of BENCHMARKS.md.
bench-portal *ARGS: _ensure
    {{py}} -m benchmarks.portal_walk "$@"

# Benchmark (not a test): gateway workers 1 vs 2 and a command's round trip across nodes, on PostgreSQL (--db or $DATABASE_URL_BENCH); prints its section of BENCHMARKS.md.
bench-scale *ARGS: _ensure
    {{py}} -m benchmarks.scale_out_bench "$@"
