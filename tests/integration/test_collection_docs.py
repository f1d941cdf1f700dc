# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The built collection installs and every module's documentation renders from the install.

Acceptance check of the README's install path: `ansible-galaxy collection build` on the checkout,
`ansible-galaxy collection install` of the tarball into an empty collections path, then
`ansible-doc linuxnet.ipvlan.<module>` from there (never from the checkout) for every module
found in plugins/modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import helpers

BIN = Path(sys.executable).parent
MODULES_DIR = helpers.REPO_ROOT / "plugins" / "modules"
MODULES = sorted(p.stem for p in MODULES_DIR.glob("*.py") if not p.name.startswith("_"))
# The modules the collection promises (issue 4 and the changelog); more may come.
EXPECTED_MODULES = {"netns", "link", "address", "route", "facts", "ipvlan", "topology"}


def _env(collections_path: Path) -> dict[str, str]:
    """Only the installed copy is visible: no checkout symlink, no ansible.cfg, no inherited ANSIBLE_*."""
    config = collections_path / "ansible.cfg"
    config.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CONFIG=str(config),
    )
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{argv} failed (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the tarball and install it; return the collections path holding the install."""
    dist = tmp_path_factory.mktemp("dist")
    collections = tmp_path_factory.mktemp("collections")
    env = _env(collections)
    _run([str(BIN / "ansible-galaxy"), "collection", "build", str(helpers.REPO_ROOT), "--output-path", str(dist)], env, dist)
    tarballs = sorted(dist.glob("linuxnet-ipvlan-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    _run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections), str(tarballs[0])], env, dist)
    assert (collections / "ansible_collections" / "linuxnet" / "ipvlan" / "MANIFEST.json").is_file()
    return collections


def test_the_promised_modules_exist():
    assert EXPECTED_MODULES <= set(MODULES), f"missing modules: {sorted(EXPECTED_MODULES - set(MODULES))}"


def test_installed_collection_lists_every_module(installed: Path):
    proc = _run([str(BIN / "ansible-doc"), "--json", "--list", "-t", "module", "linuxnet.ipvlan"], _env(installed), installed)
    listed = {name.removeprefix("linuxnet.ipvlan.") for name in json.loads(proc.stdout)}
    assert listed == set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_doc_renders_from_the_install(installed: Path, module: str):
    fqcn = f"linuxnet.ipvlan.{module}"
    env = _env(installed)
    text = _run([str(BIN / "ansible-doc"), "-t", "module", fqcn], env, installed)
    assert fqcn in text.stdout
    assert str(installed) in text.stdout, "documentation was not read from the installed tarball"
    assert "EXAMPLES" in text.stdout
    assert "ERROR" not in text.stderr, text.stderr

    doc = json.loads(_run([str(BIN / "ansible-doc"), "--json", "-t", "module", fqcn], env, installed).stdout)[fqcn]
    assert doc["doc"]["module"] == module
    assert doc["doc"].get("short_description")
    assert doc["doc"].get("version_added")
    assert doc["examples"].strip()
    assert doc.get("return"), "RETURN is missing or empty"
