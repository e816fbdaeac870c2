# shellcheck shell=bash
# html_lib.sh - sourced by the page tests: skips (77) when node or
# Chromium ($CHROMIUM, default chromium) is missing, saying which; makes
# $dir, a folder removed at exit.
chromium=${CHROMIUM:-chromium}
for tool in node "$chromium"; do
  command -v "$tool" >/dev/null || {
    echo "skipped: no $tool on this machine (scripts/deps installs it)"
    exit 77
  }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
