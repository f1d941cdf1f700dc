# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.linuxnet.ipvlan` importable for the pure unit tests.

The checkout is not under an `ansible_collections/linuxnet/ipvlan` path, so the tests import it
through the symlink that `make collection` maintains (build/collections/ansible_collections/
linuxnet/ipvlan -> the checkout); it is created here too when pytest runs without make. Nothing of
Ansible is mocked: unit tests import module_utils as they are.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / "build" / "collections"
COLLECTION_LINK = COLLECTIONS_PATH / "ansible_collections" / "linuxnet" / "ipvlan"


def _ensure_collection_link() -> None:
    if COLLECTION_LINK.is_symlink() and COLLECTION_LINK.resolve() == REPO_ROOT:
        return
    if COLLECTION_LINK.exists() and not COLLECTION_LINK.is_symlink():
        raise RuntimeError(f"{COLLECTION_LINK} is not the symlink to the checkout 'make collection' creates")
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    if COLLECTION_LINK.is_symlink():
        COLLECTION_LINK.unlink()
    COLLECTION_LINK.symlink_to(REPO_ROOT)


_ensure_collection_link()
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))

_spec = importlib.util.find_spec("ansible_collections.linuxnet.ipvlan.plugins")
if _spec is None or not any(Path(p).resolve() == REPO_ROOT / "plugins" for p in _spec.submodule_search_locations or []):
    raise RuntimeError(f"ansible_collections.linuxnet.ipvlan does not resolve to this checkout ({REPO_ROOT}): {_spec}")
