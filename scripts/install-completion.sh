#!/usr/bin/env bash
# Installs bash (and zsh, through bashcompinit) completion for tamp: subcommands, options and enum values.
#   scripts/install-completion.sh            → ~/.local/share/bash-completion/completions/tamp (bash-completion loads it)
#   scripts/install-completion.sh FILE      → FILE (e.g. to source from ~/.zshrc after `autoload bashcompinit; bashcompinit`)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion/completions/tamp}"
mkdir -p "$(dirname "$target")"
tmp="$(mktemp "$(dirname "$target")/.tamp-completion.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
"$here/tamp" generate-completion > "$tmp"
mv "$tmp" "$target"
trap - EXIT
echo "installed tamp completion: $target (open a new shell, or: source $target)" >&2
