# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tarball a user gets: built from a dirty tree, installed, documented, on this ansible-core.

The README's install path: `ansible-galaxy collection build` on a copy of the checkout made dirty
on purpose (the tool caches and build output a working tree collects), then `ansible-galaxy
collection install` of the tarball into an empty collections path, and `ansible-doc` for every
module and role from there (never from the checkout). Runs under each ansible-core of the matrix
(noxfile.py); needs no root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODULES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))
ROLES = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
FILTERS = sorted(p.stem for p in (REPO_ROOT / "plugins" / "filter").glob("*.py") if not p.name.startswith("_"))
EXPECTED_MODULES = {"netns", "link", "address", "route", "facts", "info", "ipvlan", "topology"}
EXPECTED_ROLES = {"namespaces", "prereqs"}

# What a user needs once installed: the content, its docs and the licence. Everything else in the
# checkout (tests, lab, CI, lint settings, changelog fragments) stays out.
SHIPPED_DIRS = ("plugins/", "roles/", "playbooks/", "meta/", "docs/", "LICENSES/")
SHIPPED_FILES = {"README.md", "COPYING", "REUSE.toml", "changelogs/changelog.yaml"}
# What a working tree collects: caches of every tool, build output, a stray virtual environment.
DIRT = [
    ".pytest_cache/v/cache/lastfailed",
    "tests/unit/.pytest_cache/README.md",
    "changelogs/.plugin-cache.yaml",
    ".ansible/collections/x.txt",
    "roles/namespaces/.ansible/tmp.txt",
    "venv/pyvenv.cfg",
    ".venv/bin/python",
    ".venv-pyroute2-072/pyvenv.cfg",
    ".nox/core-2-16/pyvenv.cfg",
    ".mypy_cache/3.11/x.json",
    ".ruff_cache/x",
    ".cache/x",
    "build/collections/x",
    "tests/output/junit.xml",
    "plugins/module_utils/__pycache__/_model.cpython-311.pyc",
    "plugins/modules/info.py~",
    ".vscode/settings.json",
    "linuxnet-ipvlan-0.0.1.tar.gz",
]


def git_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return sorted(p for p in out.split("\0") if p and (REPO_ROOT / p).is_file())


def shipped(path: str) -> bool:
    return path in SHIPPED_FILES or path.startswith(SHIPPED_DIRS)


def warnings_about_us(stderr: str) -> list[str]:
    """stderr lines, less ansible-core 2.20+'s own warning about its internal `_protomatter` collection
    (ansible-doc -t role scans every collection, its own included): nothing this collection can change."""
    core_own = re.compile(r"\[WARNING\]: Collection at '.*/ansible/_internal/ansible_collections/ansible/_protomatter' ")
    return [line for line in stderr.splitlines() if line.strip() and not core_own.match(line)]


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{argv} failed (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    return proc


def ansible_env(collections_path: Path) -> dict[str, str]:
    """Only the installed copy is visible: no checkout symlink, no ansible.cfg, no inherited ANSIBLE_*."""
    config = collections_path / "ansible.cfg"
    config.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_HOME=str(collections_path / "home"),
    )
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball built from a copy of the checkout with DIRT added."""
    tree = tmp_path_factory.mktemp("tree")
    for path in git_files():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / path, tree / path)
    for path in DIRT:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text("dirt\n", encoding="utf-8")
    dist = tmp_path_factory.mktemp("dist")
    env = ansible_env(tmp_path_factory.mktemp("build-env"))
    run([str(BIN / "ansible-galaxy"), "collection", "build", str(tree), "--output-path", str(dist)], env, dist)
    built = sorted(dist.glob("linuxnet-ipvlan-*.tar.gz"))
    assert len(built) == 1, built
    return built[0]


@pytest.fixture(scope="module")
def installed(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collections path the tarball was installed into."""
    collections = tmp_path_factory.mktemp("collections")
    env = ansible_env(collections)
    run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections), str(tarball)],
        env, collections)
    assert (collections / "ansible_collections" / "linuxnet" / "ipvlan" / "MANIFEST.json").is_file()
    return collections


def test_tarball_holds_exactly_what_a_user_needs(tarball: Path):
    with tarfile.open(tarball) as archive:
        files = sorted(m.name for m in archive.getmembers() if m.isfile())
    expected = sorted([p for p in git_files() if shipped(p)] + ["FILES.json", "MANIFEST.json"])
    print(f"{tarball.name}: {len(files)} files, {tarball.stat().st_size} bytes")
    assert files == expected, {"unexpected": sorted(set(files) - set(expected)), "missing": sorted(set(expected) - set(files))}
    assert {"COPYING", "LICENSES/GPL-3.0-or-later.txt", "meta/runtime.yml", "meta/execution-environment.yml"} <= set(files)


def test_the_promised_content_exists():
    assert EXPECTED_MODULES <= set(MODULES), f"missing modules: {sorted(EXPECTED_MODULES - set(MODULES))}"
    assert EXPECTED_ROLES <= set(ROLES), f"missing roles: {sorted(EXPECTED_ROLES - set(ROLES))}"


def test_installed_collection_lists_every_module_and_role(installed: Path):
    env = ansible_env(installed)
    for kind, expected in (("module", MODULES), ("role", ROLES), ("filter", FILTERS)):
        proc = run([str(BIN / "ansible-doc"), "--json", "--list", "-t", kind, "linuxnet.ipvlan"], env, installed)
        assert {name.removeprefix("linuxnet.ipvlan.") for name in json.loads(proc.stdout)} == set(expected)
        assert warnings_about_us(proc.stderr) == [], proc.stderr


@pytest.mark.parametrize("kind, names", [("module", MODULES), ("role", ROLES), ("filter", FILTERS)])
def test_docs_render_from_the_install_without_warnings(installed: Path, kind: str, names: list[str]):
    fqcns = [f"linuxnet.ipvlan.{name}" for name in names]
    env = ansible_env(installed)
    text = run([str(BIN / "ansible-doc"), "-t", kind, *fqcns], env, installed)
    # Any warning fails: "does not support Ansible version" (requires_ansible), a broken fragment...
    assert warnings_about_us(text.stderr) == [], text.stderr
    assert str(installed) in text.stdout, "documentation was not read from the installed tarball"
    docs = json.loads(run([str(BIN / "ansible-doc"), "--json", "-t", kind, *fqcns], env, installed).stdout)
    assert set(docs) == set(fqcns)
    for fqcn, doc in docs.items():
        if kind == "role":
            main = doc["entry_points"]["main"]
            assert main.get("short_description") and main.get("version_added"), fqcn
            continue
        assert fqcn in text.stdout
        assert doc["doc"]["module" if kind == "module" else "name"] == fqcn.rsplit(".", 1)[1]
        assert doc["doc"].get("short_description") and doc["doc"].get("version_added"), fqcn
        assert doc["examples"].strip(), fqcn
        assert doc.get("return"), f"{fqcn}: RETURN is missing or empty"
