#!/usr/bin/env bash
# Installs what lmlab needs on a fresh Debian machine, only when missing:
# libedit-dev (the line editor), pkg-config, and for tests tmux (the
# pseudo-terminal the REPL tests drive) and Python's nbformat (the .ipynb
# validator) and OpenAI's Python client (the serve tests). Uses sudo when not root.
set -euo pipefail
need=()
[ -f /usr/include/editline/readline.h ] || need+=(libedit-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "${1:-}" = "--test" ]; then
  command -v tmux >/dev/null 2>&1 || need+=(tmux)
fi
if [ "${1:-}" = "--test" ]; then
  # The notebook tests validate saved .ipynb files with Jupyter's own validator.
  python3 -c "import nbformat" >/dev/null 2>&1 || python3 -m pip install -q nbformat || echo "note: nbformat not installed; the .ipynb test will check the structure itself"
  # `lmlab serve` is tested with OpenAI's official Python client (Tests/python).
  python3 -c "import openai" >/dev/null 2>&1 || python3 -m pip install -q openai
fi
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" >/dev/null
