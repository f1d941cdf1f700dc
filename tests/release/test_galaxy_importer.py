# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""galaxy-importer, as a Galaxy or Automation Hub import runs it, reports no error and no warning."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import BIN, REPO_ROOT

CONFIG = Path(__file__).resolve().parent / "galaxy-importer.cfg"
# galaxy-importer requires `repository`, and this project publishes none yet (galaxy.yml leaves it out
# rather than name an address the project does not control). The copy built here gets a placeholder
# under the reserved .invalid domain, so that every other check runs; a real release sets the real one.
PLACEHOLDER_REPOSITORY = "https://linuxnet-ipvlan.invalid/repository"


def git_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    return [p for p in out.split("\0") if p and (REPO_ROOT / p).is_file()]


def test_galaxy_importer_is_clean(tmp_path: Path, tool_env: dict[str, str]):
    tree = tmp_path / "tree"
    for path in git_files():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / path, tree / path)
    galaxy = yaml.safe_load((tree / "galaxy.yml").read_text(encoding="utf-8"))
    if not galaxy.get("repository"):
        galaxy["repository"] = PLACEHOLDER_REPOSITORY
        (tree / "galaxy.yml").write_text(yaml.safe_dump(galaxy, sort_keys=False), encoding="utf-8")
    dist = tmp_path / "dist"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(tree), "--output-path", str(dist)],
                   env=tool_env, capture_output=True, text=True, check=True)
    tarball = next(dist.glob("linuxnet-ipvlan-*.tar.gz"))

    env = dict(tool_env, GALAXY_IMPORTER_CONFIG=str(CONFIG))
    proc = subprocess.run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    problems = [line for line in output.splitlines() if re.search(r"\b(WARNING|ERROR|Warning|Error)\b", line)]
    loaded = [line for line in output.splitlines() if line.startswith("Loading ")]
    print(f"galaxy-importer: rc={proc.returncode}, {len(loaded)} items loaded, {len(problems)} errors/warnings")
    assert proc.returncode == 0, output
    assert "Importer processing completed successfully" in output, output
    assert problems == [], output
