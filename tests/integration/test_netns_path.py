# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Namespaces without an `ip netns` name, given by path (/proc/PID/ns/net), on the host kernel.

A process started in its own namespace (`unshare --net sleep`) stands for a container or a
service with PrivateNetwork: the modules move a veth end into its namespace, put addresses
and routes there, and read it back; the oracle is `ip -j` run inside it through nsenter.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

import helpers
from helpers import assert_failed_cleanly

FACTS = "linuxnet.ipvlan.facts"


class Holder:
    """A process alone in a new network namespace; its namespace lives as long as it does."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])  # pylint: disable=consider-using-with
        own = os.stat("/proc/self/ns/net").st_ino
        for _attempt in range(500):   # unshare has switched once its namespace is not ours
            try:
                if os.stat(self.path).st_ino != own:
                    break
            except FileNotFoundError:
                pass
            subprocess.run(["sleep", "0.01"], check=True)
        else:
            raise AssertionError("unshare --net did not enter a namespace of its own")

    @property
    def path(self) -> str:
        return f"/proc/{self.proc.pid}/ns/net"

    def ip_json(self, *args: str) -> Any:
        out = helpers.run(["nsenter", f"--net={self.path}", "ip", "-j", "-d"] + list(args)).stdout.strip()
        return json.loads(out) if out else []

    def link(self, name: str) -> dict | None:
        return next((entry for entry in self.ip_json("link", "show") if entry["ifname"] == name), None)

    def cidrs(self, dev: str) -> set[str]:
        return {f"{a['local']}/{a['prefixlen']}" for entry in self.ip_json("addr", "show", "dev", dev)
                for a in entry["addr_info"] if a.get("scope") == "global"}

    def routes(self, family: int = 4) -> list[dict]:
        return self.ip_json(f"-{family}", "route", "show")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture
def holder() -> Iterator[Holder]:
    process = Holder()
    try:
        yield process
    finally:
        process.stop()


def snapshot(where: Holder) -> tuple:
    """The state of the root namespace and of the held one, as ip -j reports them."""
    return (helpers.links(None), helpers.ip_json(None, "addr", "show"), helpers.routes(None, 4),
            where.ip_json("link", "show"), where.ip_json("addr", "show"), where.routes(4))


def test_veth_moved_in_addressed_and_routed_by_path(run_tasks, veth, holder):
    """Move, address, route: check mode predicts the real run's actions, a second run changes nothing."""
    dev, peer = veth(None, None)
    path = holder.path
    tasks = [
        {"name": "move", "linuxnet.ipvlan.link": {"name": dev, "netns": path, "move": True, "state": "up"}},
        {"name": "lo", "linuxnet.ipvlan.link": {"name": "lo", "netns": path, "state": "up"}},
        {"name": "address", "linuxnet.ipvlan.address": {"dev": dev, "netns": path,
                                                        "addresses": ["192.0.2.10/24", "2001:db8::10/64"],
                                                        "nodad": True}},
        {"name": "route", "linuxnet.ipvlan.route": {"netns": path, "dst": "198.51.100.0/24",
                                                    "gateway": "192.0.2.1"}},
    ]
    play_check = run_tasks(tasks, check=True)
    assert holder.link(dev) is None and helpers.link(None, dev) is not None, "check mode moved the link"
    # Each task in check mode right before its real run: the same actions, on the state it meets.
    checked = [{**task, "name": "check " + task["name"], "check_mode": True} for task in tasks]
    real = run_tasks([step for pair in zip(checked, tasks) for step in pair], diff=True)
    again = run_tasks(tasks)
    again_check = run_tasks(tasks, check=True)
    where = f"namespace {path}"
    assert real.task("move")["actions"] == [f"move {dev} from the root namespace to {where}", f"set {dev} in {where} up"]
    assert real.task("move").diff == {
        "before": {"(root)": {"state": "present", "links": {dev: {"state": "down", "mtu": 1500}}},
                   path: {"state": "present"}},
        "after": {"(root)": {"state": "present"},
                  path: {"state": "present", "links": {dev: {"state": "up", "mtu": 1500}}}},
    }
    for label in ("move", "lo", "address", "route"):
        assert real.task(label).changed and play_check.task(label).changed, label
        assert real.task("check " + label)["actions"] == real.task(label)["actions"], label
        assert real.task("check " + label).diff == real.task(label).diff, label
        assert not again.task(label).changed and again.task(label)["actions"] == [], label
        assert not again_check.task(label).changed, label
    moved = holder.link(dev)
    assert moved is not None and "UP" in moved["flags"] and helpers.link(None, dev) is None
    assert holder.cidrs(dev) == {"192.0.2.10/24", "2001:db8::10/64"}
    assert any(r["dst"] == "198.51.100.0/24" and r.get("gateway") == "192.0.2.1" and r["dev"] == dev
               for r in holder.routes(4))
    assert real.task("address")["addresses"] == ["192.0.2.10/24", "2001:db8::10/64"]


def test_facts_show_the_namespace_by_path(run_tasks, veth, holder):
    """Unlisted, the namespace is found through its process; listed by path, it is read by that path."""
    dev, _peer = veth(None, None)
    helpers.run(["ip", "link", "set", "dev", dev, "netns", holder.path])
    helpers.run(["nsenter", f"--net={holder.path}", "ip", "addr", "add", "192.0.2.20/24", "dev", dev])
    run = run_tasks([
        {"name": "all", FACTS: {"include_root": False}},
        {"name": "listed", "linuxnet.ipvlan.info": {"netns": [holder.path], "include_root": False}},
    ])
    found = run.task("all")["ansible_facts"]["linuxnet_ipvlan"]["namespaces"]
    # Found by the lowest PID in it: unshare execs sleep, so it is the holder's own.
    assert holder.path in found, sorted(found)
    assert found[holder.path]["links"][dev]["kind"] == "veth"
    assert "192.0.2.20/24" in found[holder.path]["links"][dev]["addresses"]
    listed = run.task("listed")["linuxnet_ipvlan"]["namespaces"]
    assert list(listed) == [holder.path] and listed[holder.path]["links"][dev]["kind"] == "veth"


def test_a_path_to_a_named_namespace_is_that_namespace(run_tasks, netns, veth):
    """/run/netns/NAME and NAME reach one namespace: a task by path sees and changes the named one."""
    name = netns()
    dev, _peer = veth(name, None)
    run = run_tasks([
        {"name": "by path", "linuxnet.ipvlan.address": {"dev": dev, "netns": f"/run/netns/{name}",
                                                        "addresses": ["192.0.2.30/24"]}},
        {"name": "by name", "linuxnet.ipvlan.address": {"dev": dev, "netns": name, "addresses": ["192.0.2.30/24"]}},
    ])
    assert run.task("by path").changed and run.task("by path")["actions"] == [
        f"add address 192.0.2.30/24 to {dev} in namespace {name}"]
    assert not run.task("by name").changed
    assert helpers.cidrs(name, dev) == {"192.0.2.30/24"}


BAD_REFERENCES = {
    "/proc/999999999/ns/net": "does not exist",
    "/proc/self/ns/mnt": "a namespace of another type (mount)",
    "/etc/hostname": "not a network namespace",
    "/tmp": "a directory",
}


def test_bad_references_change_nothing(run_tasks, veth, holder):
    """A missing process, a namespace of another type, a plain file, a directory: one play for all."""
    dev, _peer = veth(None, None)
    before = snapshot(holder)

    def tasks(reference):
        return {
            "move": {"linuxnet.ipvlan.link": {"name": dev, "netns": reference, "move": True, "state": "up"}},
            "address": {"linuxnet.ipvlan.address": {"dev": dev, "netns": reference, "addresses": ["192.0.2.40/24"]}},
            "route": {"linuxnet.ipvlan.route": {"netns": reference, "dst": "198.51.100.0/24", "dev": dev}},
            "slave": {"linuxnet.ipvlan.ipvlan": {"name": "ipvl0", "master": dev, "netns": reference}},
            "facts": {FACTS: {"netns": [reference], "include_root": False}},
        }

    run = run_tasks([{"name": f"{mode}{label} {reference}", **task, "ignore_errors": True,
                      **({"check_mode": True} if mode else {})}
                     for reference in BAD_REFERENCES for mode in ("", "check ")
                     for label, task in tasks(reference).items()])
    for reference, says in BAD_REFERENCES.items():
        missing = says == "does not exist"
        for label in tasks(reference):
            result, checked = run.task(f"{label} {reference}"), run.task(f"check {label} {reference}")
            if label == "facts" and missing:   # a read says it is not there
                assert result["ansible_facts"]["linuxnet_ipvlan"]["namespaces"][reference]["exists"] is False
                continue
            assert_failed_cleanly(result, "netns: ", reference, says)
            if not missing:   # a missing one may come from an earlier task: check mode then warns (unit tests)
                assert_failed_cleanly(checked, "netns: ", reference, says)
    assert snapshot(holder) == before


@pytest.mark.parametrize("module, args", [
    ("linuxnet.ipvlan.netns", {"state": "absent"}),
    ("linuxnet.ipvlan.netns", {"state": "present"}),
    ("linuxnet.ipvlan.topology", {"state": "absent"}),
], ids=["netns absent", "netns present", "topology absent"])
def test_a_namespace_given_by_path_is_never_created_or_removed(run_tasks, holder, module, args):
    before = (helpers.netns_names(), os.stat(holder.path).st_ino, holder.ip_json("link", "show"))
    if module.endswith("topology"):
        args = {"namespaces": [{"name": holder.path, **args}]}
    else:
        args = {"name": holder.path, **args}
    run = run_tasks([{"name": "refused", module: args}], expect_failure=True)
    param = "name" if module.endswith("netns") else "namespaces[0].name"
    assert_failed_cleanly(run.last, param + ": ", holder.path, "is a path", "never creates or removes")
    assert (helpers.netns_names(), os.stat(holder.path).st_ino, holder.ip_json("link", "show")) == before


def test_the_namespace_ends_with_its_process(run_tasks, veth, holder):
    """Its process gone, the namespace is gone: a read says so, a task refuses, nothing is changed."""
    path = holder.path
    holder.stop()
    assert not Path(path).exists()
    run = run_tasks([{"name": "read", "linuxnet.ipvlan.info": {"netns": [path], "include_root": False}}])
    assert run.last["linuxnet_ipvlan"]["namespaces"][path] == {"exists": False, "links": {}, "routes": []}
