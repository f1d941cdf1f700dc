# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.address on the host kernel, read back with `ip -j -d address`."""

from __future__ import annotations

import json
import time

import pytest

import helpers
from helpers import assert_failed_cleanly, addresses, cidrs, ip, netns_exists

MODULE = "linuxnet.ipvlan.address"


def addr_task(label: str, **args) -> dict:
    extra = {key: args.pop(key) for key in ("check_mode", "diff", "ignore_errors") if key in args}
    return {"name": label, MODULE: args, **extra}


def addr_show_task(label: str, netns: str, dev: str) -> dict:
    """`ip -j address show` as a task: the kernel's view between two module tasks of one play."""
    argv = ["ip", "-j", "-n", netns, "address", "show", "dev", dev]
    return {"name": label, "ansible.builtin.command": {"argv": argv}, "changed_when": False}


def global_cidrs(result) -> set[str]:
    return {
        f"{info['local']}/{info['prefixlen']}"
        for entry in json.loads(result["stdout"])
        for info in entry.get("addr_info", [])
        if info.get("scope") == "global"
    }


def link_local(netns: str, dev: str) -> set[str]:
    return cidrs(netns, dev, family=6, scope="link")


def wait_for_link_local(netns: str, dev: str) -> str:
    """The kernel adds fe80::/64 when the veth gets its carrier; wait until it is there."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = link_local(netns, dev)
        if found:
            return found.pop()
        time.sleep(0.1)
    raise AssertionError(f"{dev} in {netns} never got an IPv6 link-local address")


@pytest.fixture
def wire(netns, veth):
    """(namespace, dev): one end of a veth pair whose both ends are up, each in a test namespace."""
    ns_a, ns_b = netns(), netns()
    dev = veth(ns_a, ns_b, up=True)[0]
    return ns_a, dev


def test_add_ipv4_and_ipv6_nodad(run_tasks, wire):
    ns, dev = wire
    args = {"netns": ns, "dev": dev, "addresses": ["192.0.2.10/24", "2001:db8::10/64"], "nodad": True}
    run = run_tasks(
        [
            addr_task("Check", check_mode=True, diff=True, **args),
            addr_show_task("Show after check", ns, dev),
            addr_task("Add", diff=True, **args),
            addr_task("Add again", diff=True, **args),
            addr_task("Check again", check_mode=True, **args),
        ]
    )
    where = f"{dev} in namespace {ns}"
    check, real = run.task("Check"), run.task("Add")
    assert global_cidrs(run.task("Show after check")) == set(), "check mode added addresses"
    assert check.changed and check["actions"] == [
        f"add address 192.0.2.10/24 to {where}",
        f"add address 2001:db8::10/64 to {where}",
    ]
    assert real.changed and real["actions"] == check["actions"]
    assert real.diff == check.diff
    assert "192.0.2.10/24" not in real.diff["before"][ns]["links"][dev]["addresses"]
    assert {"192.0.2.10/24", "2001:db8::10/64"} <= set(real.diff["after"][ns]["links"][dev]["addresses"])
    assert real["addresses"][:2] == ["192.0.2.10/24", "2001:db8::10/64"]
    for label in ("Add again", "Check again"):
        assert not run.task(label).changed and run.task(label)["actions"] == [], label
    assert run.task("Add again").diff["before"] == run.task("Add again").diff["after"]

    assert cidrs(ns, dev) == {"192.0.2.10/24", "2001:db8::10/64"}
    (v6,) = [info for info in addresses(ns, dev, family=6) if info["local"] == "2001:db8::10"]
    assert v6.get("nodad") is True, v6
    assert not v6.get("tentative") and not v6.get("dadfailed"), v6


def test_same_address_other_prefix_is_replaced(run_tasks, wire):
    ns, dev = wire
    ip("address", "add", "192.0.2.10/24", "dev", dev, netns=ns)
    ip("address", "add", "2001:db8::10/64", "dev", dev, "nodad", netns=ns)
    args = {"netns": ns, "dev": dev, "addresses": ["192.0.2.10/25", "2001:db8::10/80"], "nodad": True}
    run = run_tasks(
        [
            addr_task("Check", check_mode=True, diff=True, **args),
            addr_task("Change prefix", diff=True, **args),
            addr_task("Change prefix again", **args),
        ]
    )
    where = f"{dev} in namespace {ns}"
    check, real = run.task("Check"), run.task("Change prefix")
    assert real.changed and real["actions"] == check["actions"]
    assert sorted(real["actions"]) == sorted(
        [
            f"delete address 192.0.2.10/24 from {where}",
            f"delete address 2001:db8::10/64 from {where}",
            f"add address 192.0.2.10/25 to {where}",
            f"add address 2001:db8::10/80 to {where}",
        ]
    )
    assert real.diff == check.diff
    assert not run.task("Change prefix again").changed
    assert cidrs(ns, dev) == {"192.0.2.10/25", "2001:db8::10/80"}


def test_prefix_change_of_a_primary_keeps_its_secondaries(run_tasks, wire):
    """Deleting a primary IPv4 address makes the kernel delete its secondaries: they must come back."""
    ns, dev = wire
    ip("address", "add", "192.0.2.10/24", "dev", dev, netns=ns)
    ip("address", "add", "192.0.2.11/24", "dev", dev, netns=ns)  # secondary of 192.0.2.10/24
    args = {"netns": ns, "dev": dev, "addresses": ["192.0.2.10/25", "192.0.2.11/24"]}
    run = run_tasks(
        [
            addr_task("Check", check_mode=True, diff=True, **args),
            addr_task("Change prefix", diff=True, **args),
            addr_task("Change prefix again", diff=True, **args),
        ]
    )
    assert cidrs(ns, dev) == {"192.0.2.10/25", "192.0.2.11/24"}
    check, real = run.task("Check"), run.task("Change prefix")
    assert real["actions"] == check["actions"] and real.diff == check.diff
    assert sorted(real["addresses"]) == sorted(["192.0.2.10/25", "192.0.2.11/24"] + list(link_local(ns, dev)))
    assert not run.task("Change prefix again").changed, run.task("Change prefix again")


def test_purge_keeps_the_link_local_address(run_tasks, wire):
    ns, dev = wire
    fe80 = wait_for_link_local(ns, dev)
    ip("address", "add", "192.0.2.20/24", "dev", dev, netns=ns)
    ip("address", "add", "2001:db8::20/64", "dev", dev, "nodad", netns=ns)
    args = {"netns": ns, "dev": dev, "addresses": ["198.51.100.5/24"], "purge": True}
    run = run_tasks(
        [
            addr_task("Check", check_mode=True, diff=True, **args),
            addr_show_task("Show after check", ns, dev),
            addr_task("Purge", diff=True, **args),
            addr_task("Purge again", **args),
            addr_task("Purge all", netns=ns, dev=dev, purge=True, diff=True),
            addr_task("Purge all again", netns=ns, dev=dev, purge=True),
        ]
    )
    where = f"{dev} in namespace {ns}"
    check, real = run.task("Check"), run.task("Purge")
    assert global_cidrs(run.task("Show after check")) == {"192.0.2.20/24", "2001:db8::20/64"}
    assert sorted(real["actions"]) == sorted(
        [
            f"delete address 192.0.2.20/24 from {where}",
            f"delete address 2001:db8::20/64 from {where}",
            f"add address 198.51.100.5/24 to {where}",
        ]
    )
    assert real["actions"] == check["actions"] and real.diff == check.diff
    assert real["addresses"] == ["198.51.100.5/24", fe80]
    assert not run.task("Purge again").changed
    assert run.task("Purge all")["actions"] == [f"delete address 198.51.100.5/24 from {where}"]
    assert run.task("Purge all")["addresses"] == [fe80]
    assert not run.task("Purge all again").changed
    assert cidrs(ns, dev, scope=None) == {fe80}


def test_absent_matches_by_ip(run_tasks, wire):
    ns, dev = wire
    ip("address", "add", "192.0.2.30/24", "dev", dev, netns=ns)
    ip("address", "add", "192.0.2.31/24", "dev", dev, netns=ns)
    ip("address", "add", "2001:db8::30/64", "dev", dev, "nodad", netns=ns)
    # 192.0.2.30 with another prefix length still names the address; 203.0.113.9 is not there.
    args = {"netns": ns, "dev": dev, "state": "absent",
            "addresses": ["192.0.2.30/28", "2001:db8::30/64", "203.0.113.9/24"]}
    run = run_tasks(
        [
            addr_task("Check", check_mode=True, diff=True, **args),
            addr_show_task("Show after check", ns, dev),
            addr_task("Remove", diff=True, **args),
            addr_task("Remove again", diff=True, **args),
        ]
    )
    where = f"{dev} in namespace {ns}"
    check, real = run.task("Check"), run.task("Remove")
    assert global_cidrs(run.task("Show after check")) == {"192.0.2.30/24", "192.0.2.31/24", "2001:db8::30/64"}
    assert {f"delete address 192.0.2.30/24 from {where}", f"delete address 2001:db8::30/64 from {where}"} <= set(
        real["actions"]
    )
    assert not [action for action in real["actions"] if "203.0.113.9" in action]
    assert real["actions"] == check["actions"] and real.diff == check.diff
    assert not run.task("Remove again").changed
    # 192.0.2.31 was a secondary of 192.0.2.30: it must survive (the kernel promotes or the module re-adds).
    assert cidrs(ns, dev) == {"192.0.2.31/24"}


def test_bad_input_fails_and_changes_nothing(run_tasks, wire, netns):
    ns, dev = wire
    ip("address", "add", "192.0.2.40/24", "dev", dev, netns=ns)
    missing_ns = netns.name()
    missing_dev = helpers.new_name()
    base = {"netns": ns, "dev": dev, "purge": True}
    cases = {
        "no prefix length": (dict(base, addresses=["198.51.100.1"]), "addresses", "198.51.100.1"),
        "not an address": (dict(base, addresses=["foo/24"]), "addresses", "foo/24"),
        "bad IPv4": (dict(base, addresses=["192.0.2.300/24"]), "addresses", "192.0.2.300/24"),
        "bad prefix length": (dict(base, addresses=["192.0.2.1/33"]), "addresses", "192.0.2.1/33"),
        "bad IPv6": (dict(base, addresses=["2001:db8::g/64"]), "addresses", "2001:db8::g/64"),
        "one bad among good": (dict(base, addresses=["198.51.100.1/24", "x"]), "addresses", "'x'"),
        "missing namespace": (dict(base, netns=missing_ns, addresses=["198.51.100.1/24"]), "netns", missing_ns),
        "missing link": (dict(base, dev=missing_dev, addresses=["198.51.100.1/24"]), "dev", missing_dev),
        "bad link name": (dict(base, dev="a" * 16, addresses=["198.51.100.1/24"]), "dev", "a" * 16),
        "bad namespace name": (dict(base, netns="a b", addresses=["198.51.100.1/24"]), "netns", "a b"),
    }
    run = run_tasks([addr_task(label, ignore_errors=True, **args) for label, (args, *_unused) in cases.items()])
    assert [r.task for r in run] == list(cases)
    for label, (_args, param, word) in cases.items():
        assert_failed_cleanly(run.task(label), param + ":", word)
    assert cidrs(ns, dev) == {"192.0.2.40/24"}
    assert not netns_exists(missing_ns)


def wait_for_dadfailed(netns: str, dev: str, local: str) -> None:
    """DAD takes about a second after the address is added: wait until the kernel marks the duplicate."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(info["local"] == local and info.get("dadfailed") for info in addresses(netns, dev, family=6)):
            return
        time.sleep(0.2)
    raise AssertionError(f"{local} on {dev} in {netns} never failed duplicate address detection")


def test_duplicate_ipv6_address_is_reported(run_tasks, netns, veth):
    """An address another node on the link already has fails DAD: present, unused, and every run says so."""
    ns_a, ns_b = netns(), netns()
    dev_a, dev_b = veth(ns_a, ns_b, up=True)
    ip("address", "add", "2001:db8::d/64", "dev", dev_b, "nodad", netns=ns_b)
    wait_for_link_local(ns_a, dev_a)
    args = {"netns": ns_a, "dev": dev_a, "addresses": ["2001:db8::d/64"]}
    first = run_tasks([addr_task("Add", **args)]).task("Add")
    assert first.changed, first
    wait_for_dadfailed(ns_a, dev_a, "2001:db8::d")
    run = run_tasks([addr_task("Check", check_mode=True, **args), addr_task("Again", **args)])
    says = (f"addresses: 2001:db8::d/64 on {dev_a} in namespace {ns_a} failed duplicate address detection: "
            "another node on the link has it")
    for label in ("Check", "Again"):
        result = run.task(label)
        assert not result.changed and result["actions"] == [], result
        assert any(w.startswith(says) for w in result.get("warnings", [])), result
    assert "2001:db8::d/64" in cidrs(ns_a, dev_a)
