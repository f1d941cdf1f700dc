# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the host-kernel integration tests (run as root: `make test-host`).

    netns               factory: netns() creates a test namespace and returns its name;
                        netns.name() only reserves a name (for a module to create). Both are
                        removed at teardown, also when the test fails.
    veth                factory: veth(ns_a, ns_b=None, up=False) -> (name_a, name_b); name_a in ns_a,
                        name_b in ns_b (None: the root namespace). Removed at teardown.
    bridge              factory: bridge(ns, up=False) -> name of a new bridge (a standalone link).
    python_interpreter  parametrized: the .venv python (pyroute2 0.9.x) and /usr/bin/python3
                        (Debian's python3-pyroute2 0.7.2); every test using it runs twice.
    run_tasks           helpers.run_tasks bound to python_interpreter.

A session-wide check fails the run when a namespace or root-namespace link of this session is
still on the host after the tests (it removes them too), and removes the leftovers of test
sessions that died. See helpers.py for the kernel oracle (ip_json, links, addresses, routes).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import helpers  # noqa: E402  pylint: disable=wrong-import-position

# Live test sessions register here (session id -> pid), so that concurrent sessions on one host
# leave each other's namespaces alone while the leftovers of dead sessions are removed.
SESSION_DIR = Path("/run/linuxnet-ipvlan-tests")

INTERPRETERS = {
    "pyroute2-0.9": (helpers.VENV_PYTHON, "0.9."),
    "pyroute2-0.7": (helpers.SYSTEM_PYTHON, "0.7."),
}


# --------------------------------------------------------------------------- session hygiene


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _live_sessions() -> set[str]:
    live = set()
    for entry in SESSION_DIR.glob("*"):
        try:
            pid = int(entry.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _pid_alive(pid):
            live.add(entry.name)
        else:
            entry.unlink(missing_ok=True)
    return live


def _remove_stale() -> list[str]:
    """Remove `lnt*` objects that belong to no live test session."""
    live = _live_sessions()
    width = len(helpers.SESSION_PREFIX)
    names = [item.split(" ", 1)[1] for item in helpers.leftovers(helpers.PREFIX)]
    stale_prefixes = {name[:width] for name in names if len(name) >= width}
    removed: list[str] = []
    for prefix in sorted(stale_prefixes):
        if prefix[len(helpers.PREFIX):] not in live:
            removed += helpers.remove_leftovers(prefix)
    return removed


@pytest.fixture(scope="session", autouse=True)
def kernel_hygiene() -> Iterator[None]:
    """Fail the session if a test namespace or link of this session survives the tests."""
    if os.geteuid() != 0:
        pytest.fail("the host integration tests create namespaces and links: run them as root (make test-host)")
    SESSION_DIR.mkdir(parents=True, exist_ok=True)
    stale = _remove_stale()
    if stale:
        warnings.warn(f"removed leftovers of dead test sessions: {stale}", stacklevel=1)
    marker = SESSION_DIR / helpers.SESSION_ID
    marker.write_text(str(os.getpid()), encoding="utf-8")
    try:
        yield
    finally:
        left = helpers.remove_leftovers(helpers.SESSION_PREFIX)
        still = helpers.leftovers(helpers.SESSION_PREFIX)
        marker.unlink(missing_ok=True)
    if still:
        pytest.fail(f"test namespaces/links could not be removed from the host: {still}")
    if left:
        pytest.fail(f"tests left namespaces/links on the host (removed now): {left}")


# --------------------------------------------------------------------------- kernel objects


class NetnsFactory:
    """netns() creates a namespace; netns.name() reserves a name without creating it."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def name(self) -> str:
        """A fresh namespace name, removed at teardown if something created it."""
        name = helpers.new_name()
        self.names.append(name)
        return name

    def __call__(self, *, lo_up: bool = False) -> str:
        name = self.name()  # registered before creation: removed even if creation half-fails
        helpers.add_netns(name)
        if lo_up:
            helpers.ip("link", "set", "dev", "lo", "up", netns=name)
        return name

    def cleanup(self) -> None:
        for name in reversed(self.names):
            helpers.del_netns(name)


class VethFactory:
    """veth(ns_a, ns_b=None, up=False) -> (name_a, name_b); None means the root namespace."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str | None, str, str | None, str]] = []

    def __call__(self, netns_a: str | None, netns_b: str | None = None, *, up: bool = False) -> tuple[str, str]:
        name_a, name_b = helpers.new_name(), helpers.new_name()
        self.pairs.append((netns_a, name_a, netns_b, name_b))
        helpers.add_veth(netns_a, netns_b, name_a, name_b, up=up)
        return name_a, name_b

    def cleanup(self) -> None:
        for netns_a, name_a, netns_b, name_b in reversed(self.pairs):
            helpers.del_link(netns_a, name_a)
            helpers.del_link(netns_b, name_b)


class BridgeFactory:
    """bridge(ns, up=False) -> name of a new bridge in ns (None: the root namespace)."""

    def __init__(self) -> None:
        self.created: list[tuple[str | None, str]] = []

    def __call__(self, netns: str | None, *, up: bool = False) -> str:
        name = helpers.new_name()
        self.created.append((netns, name))
        helpers.add_bridge(netns, name, up=up)
        return name

    def cleanup(self) -> None:
        for netns, name in reversed(self.created):
            helpers.del_link(netns, name)


@pytest.fixture
def netns() -> Iterator[NetnsFactory]:
    factory = NetnsFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture
def veth(netns: NetnsFactory) -> Iterator[VethFactory]:  # pylint: disable=redefined-outer-name
    # depends on netns so that the pairs go before their namespaces
    factory = VethFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture
def bridge(netns: NetnsFactory) -> Iterator[BridgeFactory]:  # pylint: disable=redefined-outer-name
    factory = BridgeFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


# --------------------------------------------------------------------------- ansible-playbook


@functools.lru_cache(maxsize=None)
def _pyroute2_version(python: str) -> str:
    code = "import importlib.metadata as m, pyroute2; print(m.version('pyroute2'))"
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return f"not runnable ({exc})"
    if proc.returncode != 0:
        return "not importable: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    return proc.stdout.strip()


@pytest.fixture(params=list(INTERPRETERS), scope="session")
def python_interpreter(request: pytest.FixtureRequest) -> str:
    """The Python the modules run under; fails (never skips) when it lacks the expected pyroute2."""
    path, series = INTERPRETERS[request.param]
    version = _pyroute2_version(str(path))
    if not version.startswith(series):
        pytest.fail(f"{request.param}: pyroute2 {series}x expected in {path}, found: {version}. Run 'make setup'.")
    return str(path)


@pytest.fixture
def run_tasks(python_interpreter: str) -> Callable[..., helpers.PlaybookRun]:  # pylint: disable=redefined-outer-name
    """helpers.run_tasks(tasks, *, check, diff, expect_failure, play_vars, ...) under python_interpreter."""
    return functools.partial(helpers.run_tasks, interpreter=python_interpreter)
