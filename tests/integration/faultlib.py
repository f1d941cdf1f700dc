# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the fault and race tests share: tasks that run iproute2 inside a play, the kernel state
those tasks report, and control of a module process that stopped itself at a fault point.

A fault point (plugins/module_utils/_faults.py) is enabled per task through its environment:
``{"environment": kill_at("action 2")}`` makes the module SIGKILL itself before its third action;
``stop_at(...)`` makes it SIGSTOP itself, and ``StoppedModule`` finds it, lets a test race it, and
resumes it. Every command is an argv list.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import helpers

KILL_AT_ENV = "LINUXNET_IPVLAN_TEST_KILL_AT"
STOP_AT_ENV = "LINUXNET_IPVLAN_TEST_STOP_AT"
# Marks the module processes of one test, so that a test never touches another's.
TOKEN_ENV = "LINUXNET_IPVLAN_TEST_TOKEN"


def kill_at(point: str) -> dict[str, str]:
    return {KILL_AT_ENV: point}


def stop_at(point: str, token: str) -> dict[str, str]:
    return {STOP_AT_ENV: point, TOKEN_ENV: token}


# --------------------------------------------------------------------------- tasks


# The owner of what topology marks here: another play's purge on the same host (another test
# session) removes only its own owner's namespaces, never these.
OWNER = f"lnt-{helpers.SESSION_ID}"


def module_task(label: str, module: str, **args: Any) -> dict[str, Any]:
    """A task of linuxnet.ipvlan.MODULE; the keywords environment and ignore_errors go to the task."""
    extra = {key: args.pop(key) for key in ("environment", "ignore_errors", "check_mode") if key in args}
    if module == "topology":
        args.setdefault("owner", OWNER)
    return {"name": label, f"linuxnet.ipvlan.{module}": args, **extra}


def ip_task(label: str, *argv: str, netns: str | None = None) -> dict[str, Any]:
    """Run ``ip [-n NETNS] ARGV`` as a task: a change made out of band, in the middle of a play."""
    full = ["ip"] + (["-n", netns] if netns else []) + list(argv)
    return {"name": label, "ansible.builtin.command": {"argv": full}}


def snapshot_task(label: str, netns: str) -> dict[str, Any]:
    """A task printing the kernel's view of NETNS (links, addresses, routes of every table) as JSON."""
    return {
        "name": label,
        "ansible.builtin.command": {"argv": ["ip", "-j", "-n", netns, "-batch", "-"],
                                    "stdin": "link show\naddress show\nroute show table all\n"},
        "changed_when": False,
    }


def assert_no_traceback(run) -> None:
    for result in run:
        assert "Traceback" not in json.dumps(dict(result)), result


# --------------------------------------------------------------------------- kernel state


def _normalise(links: list[dict], addrs: list[dict], route_lists: list[list[dict]]) -> dict[str, Any]:
    """What a declaration can state: links (up, mtu), addresses, the routes the kernel did not make."""
    return {
        "links": {entry["ifname"]: ("UP" in entry.get("flags", []), entry.get("mtu")) for entry in links},
        "addresses": sorted(
            f"{entry['ifname']} {info['local']}/{info['prefixlen']}"
            for entry in addrs
            for info in entry.get("addr_info", [])
            if info.get("scope") != "link"
        ),
        "routes": sorted(
            " ".join((route.get("dst", ""), route.get("gateway", ""), route.get("dev", ""), route.get("table", "main")))
            for routes in route_lists
            for route in routes
            if route.get("protocol") not in ("kernel", "ra") and route.get("table", "main") != "local"
            and route.get("type", "unicast") == "unicast"
        ),
    }


def state_from(result: Mapping[str, Any]) -> dict[str, Any]:
    """The state a snapshot_task reported."""
    links, addrs, routes = (json.loads(line) if line.strip() else [] for line in result["stdout"].splitlines())
    return _normalise(links, addrs, [routes])


def state_now(netns: str) -> dict[str, Any]:
    """The same, read now with ``ip -j`` from the test."""
    links = helpers.ip_json(netns, "link", "show")
    addrs = helpers.ip_json(netns, "address", "show")
    return _normalise(links, addrs, [helpers.ip_json(netns, "route", "show", "table", "all")])


# --------------------------------------------------------------------------- stopped modules


def environ_of(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _stopped(pid: str) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    return any(line.startswith("State:") and "T (stopped)" in line for line in status.splitlines())


def kill_marked(tokens: list[str]) -> None:
    """SIGKILL the module processes of these tokens, wherever they are."""
    markers = [f"{TOKEN_ENV}={token}".encode() + b"\0" for token in tokens]
    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        environ = environ_of(pid)
        if any(marker in environ for marker in markers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def find_stopped(token: str, running: Callable[[], bool], timeout: float = 600) -> int:
    """The pid of the module process of this test that stopped itself at its fault point.

    (It may first wait its turn for the host lock behind other runs on this host.)"""
    marker = f"{TOKEN_ENV}={token}".encode() + b"\0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running():
        for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
            if marker in environ_of(pid) and _stopped(pid):
                return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no module process stopped at its fault point (token {token})")


def race_stopped_modules(play: Callable[[], Any], races: list[tuple[str, Callable[[int], None]]]) -> Any:
    """Run PLAY (a run_tasks call) in a thread. For each (token, meanwhile) of RACES in turn: wait
    until the module of that token stops at its fault point, run MEANWHILE(pid), resume the module.
    Return what PLAY returned."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["run"] = play()
        except BaseException as exc:  # pylint: disable=broad-except  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    try:
        for token, meanwhile in races:
            pid = find_stopped(token, thread.is_alive)
            try:
                meanwhile(pid)
            finally:
                os.kill(pid, signal.SIGCONT)
    except BaseException:
        # A module left stopped would hold the host lock, and block every run on the host, forever.
        kill_marked([token for token, _meanwhile in races])
        raise
    finally:
        thread.join()
        if "error" in outcome:  # the play's own failure says more than a module that never stopped
            raise outcome["error"]
    return outcome["run"]


HOST_LOCK = Path("/run/linuxnet-ipvlan.lock")


def _opened_host_lock(pid: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(HOST_LOCK) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def host_lock_holders() -> set[str]:
    """The pids holding the host lock (flock), from /proc/locks."""
    inode = str(HOST_LOCK.stat().st_ino)
    holders = set()
    for line in Path("/proc/locks").read_text(encoding="utf-8").splitlines():
        fields = line.split()   # "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF"; waiters have "->"
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == inode:
            holders.add(fields[4])
    return holders


def wait_blocked_on_host_lock(token: str, running: Callable[[], bool], timeout: float = 300) -> int:
    """The pid of the module process of TOKEN once it has opened the host lock while another
    process holds it: it is waiting for it (a run opens the lock file just to take the lock)."""
    marker = f"{TOKEN_ENV}={token}".encode() + b"\0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running():
        for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
            if marker in environ_of(pid) and _opened_host_lock(pid) and host_lock_holders() - {pid}:
                return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no module process waiting for the host lock (token {token})")


@contextlib.contextmanager
def address_churn(netns: str, dev: str, burst: int = 100, pause: float = 0.2) -> Iterator[None]:
    """iproute2 adding and removing an address of DEV in bursts (BURST times, then PAUSE seconds
    of quiet), until the block ends: the kernel interrupts the address dumps sent meanwhile."""
    proc = subprocess.Popen(["ip", "-n", netns, "-batch", "-"], stdin=subprocess.PIPE, text=True)
    stop = threading.Event()
    lines = f"address add 192.0.2.250/32 dev {dev}\naddress del 192.0.2.250/32 dev {dev}\n" * burst

    def churn() -> None:
        while not stop.is_set():
            proc.stdin.write(lines)
            proc.stdin.flush()
            stop.wait(pause)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        proc.stdin.close()
        proc.wait(timeout=60)


def ensure_collection_link() -> None:
    """What run_tasks makes on its first call; made once here before plays start in parallel."""
    if not helpers.COLLECTION_LINK.exists():
        helpers.COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        helpers.COLLECTION_LINK.symlink_to(helpers.REPO_ROOT)


def module_utils(name: str) -> Any:
    """The collection's module_utils module NAME, imported into the test (pyroute2 0.9)."""
    ensure_collection_link()
    if str(helpers.COLLECTIONS_PATH) not in sys.path:
        sys.path.insert(0, str(helpers.COLLECTIONS_PATH))
    return importlib.import_module(f"ansible_collections.linuxnet.ipvlan.plugins.module_utils.{name}")
