#!/usr/bin/env bash
# Make (or update) the reference zoo's virtual environment and run the zoo tests in it.
#
#   bash tests/zoo_env.sh                                 # .zoo-venv next to the checkout
#   ZOO_VENV=/tmp/zoo bash tests/zoo_env.sh -x -k timm    # another place, extra pytest arguments
#
# Why a second environment: see tests/zoo-requirements.txt. The first run installs about
# 5.5 GB (torch and torchvision from this machine's wheel cache where it has them); later
# runs only check that the pins are met.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${ZOO_VENV:-.zoo-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    echo '*' > "$venv/.gitignore"  # keep the environment out of git status
fi
"$venv/bin/python" -m pip install -qq -r tests/zoo-requirements.txt
"$venv/bin/python" -m pip install -qq -e .
# In this environment a failed import is an error, not a reason for the zoo to skip.
"$venv/bin/python" -c "import timm, torchvision, transformers, accelerate, pytorch_lightning"
"$venv/bin/python" -m pytest -q -m zoo tests/test_reference_zoo.py tests/test_trainer_integrations.py "$@"
