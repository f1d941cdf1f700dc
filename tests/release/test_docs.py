# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's documentation: antsibull-docs lint, and a rendered docsite that builds."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import BIN


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)


def test_antsibull_docs_lint(collections: Path, tool_env: dict[str, str]):
    """Plugin and role docs (markup such as M() for a role), docs/docsite, its references."""
    checkout = collections / "ansible_collections" / "linuxnet" / "ipvlan"
    proc = run([str(BIN / "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "--check-extra-docs-refs", "."],
               tool_env, checkout)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_docsite_builds(tmp_path: Path, tool_env: dict[str, str]):
    """antsibull-docs sphinx-init + its build script: Sphinx with warnings as errors.

    Offline, links into the Ansible docsite (intersphinx) cannot resolve: those warnings, and only
    those, are allowed; any other warning (broken rst, a reference into this collection) fails.
    """
    site = tmp_path / "site"
    site.mkdir(mode=0o700)
    init = run([str(BIN / "antsibull-docs"), "sphinx-init", "--use-current", "--dest-dir", str(site), "linuxnet.ipvlan"],
               tool_env, tmp_path)
    assert init.returncode == 0, init.stdout + init.stderr
    conf = site / "conf.py"
    conf.write_text(re.sub(r"^intersphinx_mapping = \{", "intersphinx_mapping = {}\n_online_only = {",
                           conf.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    build = run(["bash", str(site / "build.sh")], tool_env, site)
    output = build.stdout + build.stderr
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    external = [w for w in warnings if re.search(r"undefined label: '(?!ansible_collections\.linuxnet\.ipvlan)", w)]
    assert sorted(set(warnings) - set(external)) == [], output
    pages = sorted(p.name for p in (site / "build" / "html" / "collections" / "linuxnet" / "ipvlan").glob("*.html"))
    print(f"docsite: {len(pages)} pages, {len(external)} links to the Ansible docsite left unresolved offline")
    assert {"index.html", "info_module.html", "facts_module.html", "namespaces_role.html", "docsite/guide.html"} <= {
        str(p.relative_to(site / "build" / "html" / "collections" / "linuxnet" / "ipvlan"))
        for p in (site / "build" / "html" / "collections" / "linuxnet" / "ipvlan").rglob("*.html")
    }, output
