# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The oldest managed-node Python (module_utils/_floor.py: 3.9), with the Pythons pyenv provides.

* The floor itself runs the modules: a Python 3.9 virtual environment with pyroute2 0.7.2, so no
  respawn happens, creates and reads a namespace.
* An older Python is turned away with a message that says so, wherever ansible-core still starts
  modules on it (ansible-core's own wrapper refuses the oldest ones first on newer cores).
* The respawn picks only interpreters that can run the modules: a Python 3.6 that has pyroute2
  (like EL8's platform-python with EPEL's python3-pyroute2) is skipped and named.

The virtual environments are built once under build/python-floor/ (pip install pyroute2==0.7.2).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import helpers

PYENV = Path("/root/.pyenv/versions")
FLOOR = (3, 9)
OLD = {(3, 6): "3.6.15", (3, 7): "3.7.16", (3, 8): "3.8.18"}
# The oldest target Python each ansible-core series starts modules on (its module wrapper's floor).
CORE_TARGET_FLOOR = {(2, 16): (3, 6), (2, 17): (3, 7), (2, 18): (3, 8), (2, 19): (3, 8), (2, 20): (3, 9), (2, 21): (3, 9)}
VENVS = helpers.REPO_ROOT / "build" / "python-floor"

sys.path.insert(0, str(helpers.COLLECTIONS_PATH))
from ansible.release import __version__ as CORE_VERSION  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._floor import too_old_msg  # noqa: E402
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import pick_interpreter  # noqa: E402


def pyenv_python(version: str) -> Path:
    path = PYENV / version / "bin" / ("python" + version.rsplit(".", 1)[0])
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests need pyenv's Python {version}")
    return path


def venv_with_pyroute2(version: str) -> Path:
    """A virtual environment of pyenv's Python `version` holding pyroute2 0.7.2 (built once)."""
    venv = VENVS / version
    python = venv / "bin" / "python"
    stamp = venv / ".stamp"
    if not stamp.exists():
        helpers.run([str(pyenv_python(version)), "-m", "venv", "--clear", str(venv)], timeout=300)
        # pyroute2 needs importlib-metadata before 3.8: pins of the last releases for Python 3.6 (old pip picks the newest).
        extra = ["importlib-metadata==4.8.3", "zipp==3.6.0", "typing-extensions==4.1.1"] if version.startswith("3.6.") else []
        helpers.run([str(python), "-m", "pip", "install", "-q", "pyroute2==0.7.2", *extra], timeout=600)
        stamp.write_text("pyroute2==0.7.2\n", encoding="utf-8")
    return python


def info_task(netns: str) -> dict:
    return {"name": "Read", "linuxnet.ipvlan.info": {"netns": [netns], "include_root": False}}


def test_floor_python_runs_the_modules(netns):
    python = venv_with_pyroute2("3.9.18")
    name = netns.name()
    run = helpers.run_tasks(
        [{"name": "Create", "linuxnet.ipvlan.netns": {"name": name}}, info_task(name)], interpreter=python
    )
    assert run.task("Create").changed and helpers.netns_exists(name)
    assert run.task("Read")["linuxnet_ipvlan"]["namespaces"][name]["exists"] is True


@pytest.mark.parametrize("version", list(OLD), ids=lambda v: "python%d.%d" % v)
def test_older_python_is_turned_away(netns, version):
    python = pyenv_python(OLD[version])
    name = netns.name()
    run = helpers.run_tasks([info_task(name)], interpreter=python, expect_failure=True)
    core = tuple(int(part) for part in CORE_VERSION.split(".")[:2])
    if version >= CORE_TARGET_FLOOR[core]:
        assert run.last.msg == too_old_msg(str(python), version), run.last
    else:  # ansible-core fails first (a traceback before 2.21, its own message since): our code never runs
        assert "linuxnet.ipvlan" not in run.last.msg, run.last
        assert run.last.get("module_stderr") or "Python 3.9 or newer" in run.last.msg, run.last
    assert not helpers.netns_exists(name)


def run_command(argv: list[str], handle_exceptions: bool = True) -> tuple[int, str, str]:
    """AnsibleModule.run_command's contract, for calling pick_interpreter outside a module."""
    assert handle_exceptions is False  # pick_interpreter handles OSError itself
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_respawn_skips_pythons_too_old_for_the_modules():
    old = str(venv_with_pyroute2("3.6.15"))
    without_pyroute2 = str(pyenv_python("3.9.18"))
    system = str(helpers.SYSTEM_PYTHON)
    assert subprocess.run([without_pyroute2, "-c", "import pyroute2"], capture_output=True, check=False).returncode != 0
    assert pick_interpreter([old, system], run_command) == (system, [f"{old} (Python 3.6)"])
    assert pick_interpreter(["/nonexistent/python3", old, without_pyroute2], run_command) == (None, [f"{old} (Python 3.6)"])
    assert pick_interpreter([without_pyroute2], run_command) == (None, [])
