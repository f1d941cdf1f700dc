# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Release checks (`make release-check`, nox session `release`): run in the release tools' venv.

    collections  a collections path whose linuxnet/ipvlan is a symlink to the checkout
    tool_env     the environment every tool runs in: only that path, no ansible.cfg, the venv's bin first
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("collections")
    link = path / "ansible_collections" / "linuxnet" / "ipvlan"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO_ROOT)
    (path / "ansible.cfg").write_text("", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tool_env(collections: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GALAXY_IMPORTER_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_CONFIG=str(collections / "ansible.cfg"),
        ANSIBLE_HOME=str(collections / "home"),
        ANSIBLE_NOCOLOR="1",
    )
    return env
