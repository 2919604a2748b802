#!/usr/bin/env bash
# Installs the Debian packages evloop's tests and benchmarks use, when missing. Idempotent.
#   netcat-openbsd: a real TCP peer nobody here wrote (nc) for the networking tests
#   wrk:            the HTTP load generator of the benchmarks and the lab
#   chromium:       opens the lab's report in the browser tests
#   procps:         ps/pgrep for leftover-process checks
#   curl:           a real HTTP client for the HTTP server tests
#   nginx-light:    the nginx baseline of the HTTP benchmark (bench/http.ts; its service is not started)
#   tmux:           a real terminal for the terminal-input and `evloop ui` tests (send-keys, capture-pane)
set -euo pipefail
want=(netcat-openbsd wrk chromium procps curl nginx-light tmux)
missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
