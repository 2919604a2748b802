#!/usr/bin/env bash
# Optional: fetches a Bun binary for the HTTP benchmark's Bun.serve baseline, from the npm
# package @oven/bun-linux-x64 (the binary ships inside it), into .cache/bun/ of the repo.
# Not a project dependency: benchmarks skip Bun when this was not run. Idempotent.
#   usage: scripts/install-bun.sh   → prints the binary's path
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/bun"
bin="$dest/package/bin/bun"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
case "$(uname -m)" in
  x86_64) pkg="@oven/bun-linux-x64" ;;
  aarch64) pkg="@oven/bun-linux-aarch64" ;;
  *) echo "install-bun: no Bun package for $(uname -m)" >&2; exit 1 ;;
esac
mkdir -p "$dest"
tgz="$(cd "$dest" && npm pack --silent "$pkg" | tail -1)"
tar -xzf "$dest/$tgz" -C "$dest"
rm -f "$dest/$tgz"
chmod +x "$bin"
"$bin" --version >/dev/null
echo "$bin"
