#!/usr/bin/env bash
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Run `ansible-test sanity` on a clean copy of the collection.
#
# ansible-test needs the collection under .../ansible_collections/<namespace>/<name>/, so the
# git-tracked files plus the untracked-but-not-ignored ones are copied to
# build/sanity/ansible_collections/linuxnet/ipvlan (never .venv*, build/ or .git) and tested there
# with the local Python 3.11. ansible-test builds (and caches, under ~/.ansible/test/venv) one
# virtualenv per sanity test with that test's pinned requirements (--venv --requirements).
#
# Environment: VENV (default .venv, must hold ansible-core), BUILD (default build),
# SANITY_PYTHON (default 3.11), SANITY_TREE (default build/sanity: one per ansible-core series lets
# the matrix run them side by side), extra arguments are passed to ansible-test (e.g. --test pylint).
# Exits non-zero on any failure. Ignore files (tests/sanity/ignore-*.txt) are not allowed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
BUILD=${BUILD:-$ROOT/build}
SANITY_PYTHON=${SANITY_PYTHON:-3.11}
NAMESPACE=linuxnet
NAME=ipvlan
TREE=${SANITY_TREE:-$BUILD/sanity}
[[ $TREE == /* ]] || TREE=$ROOT/$TREE
DEST=$TREE/ansible_collections/$NAMESPACE/$NAME
LOG=$TREE/sanity.log

ansible_test=$VENV/bin/ansible-test
if [[ ! -x $ansible_test ]]; then
    echo "sanity: $ansible_test not found: run 'make setup' first" >&2
    exit 2
fi

cd "$ROOT"

# ansible-test bootstraps pip into each empty sanity virtualenv with a get-pip script that it
# downloads from its own CI file host, which is not reachable from every machine (ours included).
# It uses a cached copy when there is one, so cache a stand-in with the same interface: bootstrap
# the venv's bundled pip (ensurepip), then `pip install` the requested packages from the package
# index. A real cached get-pip script is left alone.
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" \
    "$("$VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
if [[ -z $pip_version ]]; then
    echo "sanity: cannot find the pip version ansible-test bootstraps" >&2
    exit 2
fi
get_pip=${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -s $get_pip ]] || grep -q '^# linuxnet.ipvlan get-pip stand-in' "$get_pip"; then
    mkdir -p "$(dirname "$get_pip")"
    cat > "$get_pip.tmp" <<'PY'
# linuxnet.ipvlan get-pip stand-in (written by tests/sanity.sh): ensurepip, then pip install ARGS.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
    mv "$get_pip.tmp" "$get_pip"
fi

# Ignore files hide failures: this collection must pass without them.
shopt -s nullglob
ignores=(tests/sanity/ignore-*.txt)
shopt -u nullglob
if ((${#ignores[@]})); then
    echo "sanity: ignore files are not allowed, fix the findings instead: ${ignores[*]}" >&2
    exit 1
fi

# One run at a time per checkout: a second run waits instead of deleting the first one's tree.
mkdir -p "$(dirname "$TREE")"
exec 9>"$TREE.lock"
flock 9

# The clean copy: tracked + untracked-not-ignored files that exist (a deleted tracked file is skipped).
rm -rf "$TREE"
mkdir -p "$DEST"
count=0
while IFS= read -r -d '' path; do
    case $path in
        .venv* | build | build/* | .git | .git/*) continue ;;
    esac
    [[ -e $path || -L $path ]] || continue
    cp -a --parents -- "$path" "$DEST/"
    count=$((count + 1))
done < <(git ls-files -z --cached --others --exclude-standard)
echo "sanity: copied $count files to $DEST"
# ansible-test lists the files through the nearest enclosing git repository; without one of its own
# the copy would be seen through the checkout's, which ignores build/ (and so every file).
git -C "$DEST" init -q

cd "$DEST"
echo "sanity: $($ansible_test --version) on Python $SANITY_PYTHON"
start=$SECONDS
rc=0
"$ansible_test" sanity --venv --requirements --python "$SANITY_PYTHON" --color no "$@" 2>&1 | tee "$LOG" || rc=$?
ran=$(sed -n 's/^Running sanity test "\([^"]*\)".*/\1/p' "$LOG" | sort -u | tr '\n' ' ')
echo "sanity: tests run: ${ran:-none}"
echo "sanity: took $((SECONDS - start))s, exit code $rc (log: $LOG)"
if ((rc == 0)) && [[ -z $ran ]]; then
    echo "sanity: ansible-test ran no test" >&2
    rc=1
fi
exit "$rc"
