# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.netns on the host kernel, checked against `ip netns` (the independent oracle)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import helpers
from helpers import ip_json, netns_exists, netns_names

MODULE = "linuxnet.ipvlan.netns"


def netns_task(label: str, name: str, state: str = "present", **extra) -> dict:
    return {"name": label, MODULE: {"name": name, "state": state}, **extra}


def netns_list_task(label: str) -> dict:
    """`ip -j netns list` as a task, to read the kernel between two module tasks of one play."""
    return {"name": label, "ansible.builtin.command": {"argv": ["ip", "-j", "netns", "list"]}, "changed_when": False}


def listed(result) -> set[str]:
    out = result["stdout"].strip()
    return {entry["name"] for entry in json.loads(out)} if out else set()


def own_netns_inode() -> tuple[int, int]:
    st = os.stat("/proc/self/ns/net")
    return st.st_dev, st.st_ino


def test_create_check_mode_and_idempotence(run_tasks, netns):
    name = netns.name()
    run = run_tasks(
        [
            netns_task("Check create", name, check_mode=True, diff=True),
            netns_list_task("List after check"),
            netns_task("Create", name, diff=True),
            netns_task("Create again", name, diff=True),
            netns_task("Check again", name, check_mode=True, diff=True),
        ]
    )
    check, real = run.task("Check create"), run.task("Create")
    assert check.changed and check["actions"] == [f"create namespace {name}"]
    assert check["netns"] == {"name": name, "exists": True, "held_by": []}
    assert name not in listed(run.task("List after check")), "check mode created the namespace"

    assert real.changed and real["actions"] == check["actions"]
    assert real.diff == check.diff == {"before": {name: {"state": "absent"}}, "after": {name: {"state": "present"}}}
    assert real["netns"]["exists"] is True
    for again in (run.task("Create again"), run.task("Check again")):
        assert not again.changed and again["actions"] == []
        assert again.diff["before"] == again.diff["after"]

    # Oracle: iproute2 sees it, can enter it, and it is a namespace of its own with only lo.
    assert name in netns_names()
    helpers.run(["ip", "netns", "exec", name, "true"])
    inside = helpers.run(["ip", "netns", "exec", name, "stat", "-L", "-c", "%d %i", "/proc/self/ns/net"]).stdout
    assert tuple(int(x) for x in inside.split()) != own_netns_inode()
    assert [entry["ifname"] for entry in ip_json(name, "link", "show")] == ["lo"]


def test_namespace_made_by_ip_netns_add_is_seen(run_tasks, netns):
    name = netns()  # ip netns add
    run = run_tasks(
        [
            netns_task("Check", name, check_mode=True, diff=True),
            netns_task("Present", name, diff=True),
        ]
    )
    for result in run:
        assert not result.changed and result["actions"] == []
        assert result["netns"]["exists"] is True
        assert result.diff == {"before": {name: {"state": "present"}}, "after": {name: {"state": "present"}}}
    assert netns_exists(name)


def test_names_match_exactly(run_tasks, netns):
    longer = netns()  # ip netns add
    shorter = longer[:-1]  # a prefix of an existing name
    netns.names.append(shorter)  # the fixture removes it if the test made it
    suffixed = longer + "x"  # an existing name is a prefix of it (never created)
    run = run_tasks(
        [
            netns_task("Check shorter", shorter, check_mode=True),
            netns_task("Remove missing shorter", shorter, "absent"),
            netns_task("Check longer absent", suffixed, "absent", check_mode=True),
            netns_task("Remove missing suffixed", suffixed, "absent"),
            netns_task("Create shorter", shorter),
            netns_task("Remove shorter", shorter, "absent"),
        ]
    )
    assert run.task("Check shorter").changed, f"{shorter} was mistaken for {longer}"
    assert run.task("Check shorter")["actions"] == [f"create namespace {shorter}"]
    for label in ("Remove missing shorter", "Check longer absent", "Remove missing suffixed"):
        assert not run.task(label).changed, f"{label}: {run.task(label)}"
        assert run.task(label)["netns"]["exists"] is False
    assert run.task("Create shorter").changed
    assert run.task("Remove shorter").changed
    assert run.task("Remove shorter")["actions"] == [f"delete namespace {shorter}"]
    names = netns_names()
    assert longer in names and shorter not in names and suffixed not in names


def test_remove_check_mode_and_idempotence(run_tasks, netns):
    name = netns()
    run = run_tasks(
        [
            netns_task("Check remove", name, "absent", check_mode=True, diff=True),
            netns_list_task("List after check"),
            netns_task("Remove", name, "absent", diff=True),
            netns_task("Remove again", name, "absent", diff=True),
            netns_task("Check again", name, "absent", check_mode=True),
        ]
    )
    check, real = run.task("Check remove"), run.task("Remove")
    assert check.changed and check["actions"] == [f"delete namespace {name}"]
    assert check["netns"] == {"name": name, "exists": False, "held_by": []}
    assert name in listed(run.task("List after check")), "check mode removed the namespace"
    assert real.changed and real["actions"] == check["actions"]
    assert real.diff == check.diff == {"before": {name: {"state": "present"}}, "after": {name: {"state": "absent"}}}
    assert not real.get("warnings")
    for again in (run.task("Remove again"), run.task("Check again")):
        assert not again.changed and again["actions"] == []
        assert again["netns"]["exists"] is False
    assert name not in netns_names()
    assert not Path("/run/netns", name).exists()


def _wait_until_inside(pid: int, name: str) -> None:
    """Wait until `ip netns exec` has switched the process into the namespace (it then execs sleep)."""
    target = os.stat(f"/run/netns/{name}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except FileNotFoundError:
            raise AssertionError(f"process {pid} ended before entering {name}") from None
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never entered namespace {name}")


def test_remove_namespace_held_by_a_process(run_tasks, netns):
    name = netns()
    proc = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "600"])  # pylint: disable=consider-using-with
    try:
        _wait_until_inside(proc.pid, name)
        run = run_tasks(
            [
                netns_task("Check remove", name, "absent", check_mode=True),
                netns_task("Remove", name, "absent"),
                netns_task("Remove again", name, "absent"),
            ]
        )
        for label in ("Check remove", "Remove"):
            result = run.task(label)
            assert result.changed
            assert proc.pid in result["netns"]["held_by"], result
            warnings = " ".join(map(str, result.get("warnings", [])))
            assert name in warnings and str(proc.pid) in warnings, result
        assert run.task("Remove")["netns"]["exists"] is False
        assert not run.task("Remove again").changed
        assert run.task("Remove again")["netns"]["held_by"] == []
        assert name not in netns_names()
        # The name is gone, the process still lives in the (now unnamed) namespace.
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_bad_names_fail_and_create_nothing(run_tasks):
    token = helpers.new_name()  # a unique word inside every bad name: nothing may appear with it
    bad = {
        "empty": ("", "present"),
        "dot": (".", "present"),
        "dotdot": ("..", "present"),
        "dotdot absent": ("..", "absent"),
        "slash": (f"{token}/x", "present"),
        "slash absent": (f"{token}/x", "absent"),
        "space": (f"{token} x", "present"),
        "tab": (f"{token}\tx", "present"),
        "newline": (f"{token}\nx", "present"),
        "NUL": (f"{token}\x00x", "present"),
        "too long": (token + "x" * (256 - len(token)), "present"),
    }
    run = run_tasks([netns_task(label, name, state, ignore_errors=True) for label, (name, state) in bad.items()])
    assert [r.task for r in run] == list(bad)
    for result in run:
        assert result.failed, result
        assert not result.changed, result
        assert result.msg.startswith("name: "), result
        assert "Traceback" not in json.dumps(dict(result))
    assert run.task("too long").msg == "name: namespace name is 256 bytes long; the filesystem allows 255"
    assert not [name for name in netns_names() if token in name]
    assert not Path("/run/netns", token).exists()
    assert Path("/run/netns").is_dir()
