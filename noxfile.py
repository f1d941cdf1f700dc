# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ansible-core test matrix, and the release checks (`make matrix`, `make release-check`).

    nox -s core-2.16        one ansible-core series: unit tests, ansible-test sanity (no ignore
                            files), the built tarball's docs; the host integration tests too on the
                            oldest and the newest series (as root, after `make setup`; arguments
                            after `--` go to their pytest)
    nox -s release          reuse lint, antsibull-docs lint and a docs build, galaxy-importer

One virtual environment per session, on a Python that ansible-core series supports, kept across
runs in ~/.cache/linuxnet-ipvlan/nox (NOX_ENVDIR overrides) and reinstalled only when its pinned
requirements change (a hash in the venv). Plain nox: antsibull-nox runs ansible-test in containers
and fetches ansible-core from git, neither of which this machine can do.
"""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
nox.options.envdir = os.environ.get("NOX_ENVDIR", str(Path.home() / ".cache" / "linuxnet-ipvlan" / "nox"))
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = []  # name the sessions: `make matrix` / `make release-check` do

# ansible-core series -> (newest patch release, controller Python it runs on). Every series is
# tested on a Python it supports (2.16/2.17: 3.10-3.12, 2.18/2.19: 3.11-3.13, 2.20/2.21: 3.12-3.14).
CORE = {
    "2.16": ("2.16.19", "3.11"),
    "2.17": ("2.17.14", "3.12"),
    "2.18": ("2.18.19", "3.13"),
    "2.19": ("2.19.14", "3.11"),
    "2.20": ("2.20.10", "3.12"),
    "2.21": ("2.21.5", "3.13"),
}
OLDEST, NEWEST = min(CORE, key=lambda s: tuple(map(int, s.split(".")))), max(CORE, key=lambda s: tuple(map(int, s.split("."))))


def pins(*names: str) -> list[str]:
    """The pins of these packages in tests/requirements.txt (the main venv's), so both agree."""
    lines = (ROOT / "tests" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    found = [line.strip() for line in lines if line.split("==")[0].strip() in names]
    assert len(found) == len(names), f"tests/requirements.txt pins {found}, expected {names}"
    return found


# What the unit, tarball and host tests need beside ansible-core.
CORE_TOOLS = pins("pytest", "hypothesis", "pyroute2")
RELEASE_TOOLS = [
    "ansible-core==2.19.14",
    "antsibull-docs==2.28.0",
    "galaxy-importer==0.4.44",
    *pins("pytest"),
    "reuse==6.2.0",
    "sphinx-ansible-theme==0.10.4",
]
RELEASE_PYTHON = "3.11"


def python(version: str) -> str:
    """pyenv's interpreter for X.Y when there is one (its shims answer only for the global version)."""
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    found = sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"))
    return found[-1] if found else version


def install(session: nox.Session, requirements: list[str]) -> None:
    """pip install the pinned requirements, unless this venv already holds exactly them."""
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / ".linuxnet-requirements"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return
    session.install("-q", *requirements)
    stamp.write_text(digest, encoding="utf-8")


def core_session(series: str) -> None:
    release, py = CORE[series]

    @nox.session(name=f"core-{series}", python=python(py))
    def run(session: nox.Session) -> None:
        install(session, [f"ansible-core=={release}", *CORE_TOOLS])
        session.run("ansible", "--version")
        session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/unit")
        session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/collection")
        session.run(
            "bash", "tests/sanity.sh", external=True,
            env={"VENV": session.virtualenv.location, "SANITY_PYTHON": py, "SANITY_TREE": f"build/sanity-{series}"},
        )
        if series in (OLDEST, NEWEST):  # extra arguments go to this pytest: nox -s core-2.21 -- -k facts
            session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/integration", *session.posargs)


for _series in CORE:
    core_session(_series)


@nox.session(python=python(RELEASE_PYTHON))
def release(session: nox.Session) -> None:
    install(session, RELEASE_TOOLS)
    session.run("reuse", "lint")
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/release")
