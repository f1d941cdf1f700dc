# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.topology on the host kernel, read back with `ip netns` and `ip -j -d`.

The host kernel has no ipvlan, so the topologies here declare none: namespaces (created and
marked through the alias of lo), lo up with 127.0.0.1/8, and routes through a veth pair that the
test adds between two declared namespaces. Slaves are covered by the Molecule scenarios.

Purge removes only what carries its owner's marker: every test here uses an owner of its own test
session, so it never touches what other plays, test sessions or users manage on this host.
"""

from __future__ import annotations

import json
import os

import helpers
import pytest
from helpers import assert_failed_cleanly, cidrs, ip, is_up, link, netns_exists, netns_names, routes

MODULE = "linuxnet.ipvlan.topology"
OWNER = helpers.SESSION_PREFIX + "-t"   # this test session's scope: purge never leaves it
MARKER = "managed-by=linuxnet.ipvlan owner=" + OWNER


def topology_task(label: str, namespaces: list, **extra) -> dict:
    args = {"namespaces": namespaces, "owner": extra.pop("owner", OWNER)}
    for key in ("purge", "allow_port_change", "persist"):
        if key in extra:
            args[key] = extra.pop(key)
    return {"name": label, MODULE: args, **extra}


def netns_list_task(label: str) -> dict:
    return {"name": label, "ansible.builtin.command": {"argv": ["ip", "-j", "netns", "list"]}, "changed_when": False}


def listed(result) -> set[str]:
    out = result["stdout"].strip()
    return {entry["name"] for entry in json.loads(out)} if out else set()


def check_real_again(label: str, namespaces: list, **extra) -> list[dict]:
    """The same topology three times: check mode, real, and real again (must change nothing)."""
    return [
        topology_task(f"Check {label}", namespaces, check_mode=True, diff=True, **extra),
        topology_task(label, namespaces, diff=True, **extra),
        topology_task(f"{label} again", namespaces, diff=True, **extra),
    ]


def assert_check_predicts_real(run, label: str) -> None:
    check, real, again = run.task(f"Check {label}"), run.task(label), run.task(f"{label} again")
    assert check.changed and real.changed, (check, real)
    assert real["actions"] == check["actions"]
    assert real.diff == check.diff
    assert not again.changed and again["actions"] == [], again
    assert again.diff["before"] == again.diff["after"]
    # What the real run predicted is what the next run finds, devices the kernel picked included.
    assert again.diff["before"] == real.diff["after"]


def assert_marked(ns: str, marker: str = MARKER) -> None:
    lo = link(ns, "lo")
    assert lo is not None and lo.get("ifalias") == marker, lo
    assert is_up(lo)
    assert "127.0.0.1/8" in cidrs(ns, "lo", family=4, scope=None)


def test_namespaces_routes_and_purge(run_tasks, netns, veth):
    ns_a, ns_b, ns_c = netns.name(), netns.name(), netns.name()  # made by the module
    unmarked = netns()  # made by ip netns add: purge must leave it alone

    # 1. Three namespaces, lo up and marked.
    bare = [{"name": ns_a}, {"name": ns_b}, {"name": ns_c}]
    run = run_tasks(
        [
            topology_task("Check create", bare, check_mode=True, diff=True),
            netns_list_task("List after check"),
            *check_real_again("Create", bare)[1:],
        ]
    )
    assert not {ns_a, ns_b, ns_c} & listed(run.task("List after check")), "check mode created namespaces"
    check, real, again = run.task("Check create"), run.task("Create"), run.task("Create again")
    assert real.changed and real["actions"] == check["actions"] and real.diff == check.diff
    assert not again.changed and again["actions"] == []
    for ns in (ns_a, ns_b, ns_c):
        assert f"create namespace {ns}" in real["actions"]
        assert real.diff["before"][ns] == {"state": "absent"}
        assert real.diff["after"][ns]["links"]["lo"] == {
            "state": "up", "mtu": 65536, "alias": MARKER, "addresses": ["127.0.0.1/8", "::1/128"]}
        assert real["namespaces"][ns]["exists"] is True
        assert real["namespaces"][ns]["links"]["lo"]["managed"] is True
        assert real["namespaces"][ns]["links"]["lo"]["owner"] == OWNER
        assert_marked(ns)

    # 2. Routes through a veth between a and b; a stray static route in a is removed.
    dev_a, dev_b = veth(ns_a, ns_b, up=True)
    ip("address", "add", "192.0.2.1/24", "dev", dev_a, netns=ns_a)
    ip("address", "add", "2001:db8::1/64", "dev", dev_a, "nodad", netns=ns_a)
    ip("address", "add", "192.0.2.2/24", "dev", dev_b, netns=ns_b)
    ip("route", "add", "203.0.113.0/24", "via", "192.0.2.2", "proto", "static", netns=ns_a)  # not declared
    routed = [
        {"name": ns_a, "routes": [
            {"dst": "198.51.100.0/24", "gateway": "192.0.2.2", "dev": dev_a},
            {"dst": "default", "gateway": "2001:db8::2"},
        ]},
        {"name": ns_b, "routes": [{"dst": "default", "gateway": "192.0.2.1", "metric": 10}]},
        {"name": ns_c},
    ]
    run = run_tasks(check_real_again("Routes", routed))
    assert_check_predicts_real(run, "Routes")
    assert sorted(run.task("Routes")["actions"]) == sorted([
        f"add route 198.51.100.0/24 via 192.0.2.2 dev {dev_a} in namespace {ns_a}",
        f"add route default via 2001:db8::2 dev {dev_a} metric 1024 in namespace {ns_a}",
        f"add route default via 192.0.2.1 dev {dev_b} metric 10 in namespace {ns_b}",
        f"delete route 203.0.113.0/24 via 192.0.2.2 dev {dev_a} in namespace {ns_a}",
    ])
    v4_a = {entry["dst"]: entry for entry in routes(ns_a)}
    assert v4_a["198.51.100.0/24"]["gateway"] == "192.0.2.2" and "203.0.113.0/24" not in v4_a
    assert v4_a["192.0.2.0/24"]["protocol"] == "kernel", "the connected route went away"
    (v6_default,) = [entry for entry in routes(ns_a, family=6) if entry["dst"] == "default"]
    assert v6_default["gateway"] == "2001:db8::2" and v6_default["metric"] == 1024
    (v4_default,) = [entry for entry in routes(ns_b) if entry["dst"] == "default"]
    assert v4_default["gateway"] == "192.0.2.1" and v4_default["metric"] == 10
    assert cidrs(ns_a, dev_a) == {"192.0.2.1/24", "2001:db8::1/64"}, "addresses of a veth changed"

    # 3. Purge: c is marked and no longer declared, so it goes; the unmarked namespace stays.
    kept = routed[:2]
    run = run_tasks(
        [
            topology_task("Check purge", kept, purge=True, check_mode=True, diff=True),
            netns_list_task("List after check"),
            topology_task("Purge", kept, purge=True, diff=True),
            topology_task("Purge again", kept, purge=True, diff=True),
        ]
    )
    assert ns_c in listed(run.task("List after check")), "check mode purged a namespace"
    check, real, again = run.task("Check purge"), run.task("Purge"), run.task("Purge again")
    assert real.changed and real["actions"] == check["actions"] == [f"delete namespace {ns_c}"]
    assert real.diff == check.diff
    assert real.diff["before"][ns_c]["state"] == "present" and real.diff["after"][ns_c] == {"state": "absent"}
    assert unmarked not in real.diff["before"]
    assert not again.changed and again["actions"] == []
    names = netns_names()
    assert ns_c not in names
    assert {ns_a, ns_b, unmarked} <= names
    assert link(unmarked, "lo").get("ifalias") is None and not is_up(link(unmarked, "lo"))

    # 4. state: absent removes a declared namespace (a, not declared and purge off, is left as it is).
    gone = [{"name": ns_b, "state": "absent"}]
    run = run_tasks(check_real_again("Remove b", gone))
    assert_check_predicts_real(run, "Remove b")
    # The kernel takes the veth's peer in a with b: the plan says so, and it is gone when the task ends.
    assert run.task("Remove b")["actions"] == [f"delete namespace {ns_b}, and with it veth {dev_a} in namespace {ns_a}"]
    assert run.task("Remove b")["namespaces"][ns_b]["exists"] is False
    assert not netns_exists(ns_b) and netns_exists(ns_a)
    assert link(ns_a, dev_a) is None
    assert_marked(ns_a)


def test_bad_input_fails_and_creates_nothing(run_tasks, netns):
    ns = netns.name()
    cases = {
        "bad namespace name": ([{"name": "a/b"}], "namespaces[0].name"),
        "second namespace bad": ([{"name": ns}, {"name": ".."}], "namespaces[1].name"),
        "namespace twice": ([{"name": ns}, {"name": ns}], "namespaces"),
        "route without next hop": ([{"name": ns, "routes": [{"dst": "198.51.100.0/24"}]}],
                                   "namespaces[0].routes[0].gateway"),
        "route family mismatch": ([{"name": ns, "routes": [{"dst": "198.51.100.0/24", "gateway": "2001:db8::1"}]}],
                                  "namespaces[0].routes[0].gateway"),
        "unreachable gateway": ([{"name": ns, "routes": [{"dst": "198.51.100.0/24", "gateway": "203.0.113.1"}]}],
                                "gateway"),
        "bad ipvlan name": ([{"name": ns, "ipvlans": [{"name": "x" * 16, "master": "lo"}]}],
                            "namespaces[0].ipvlans[0].name"),
    }
    run = run_tasks([topology_task(label, spec, ignore_errors=True) for label, (spec, *_unused) in cases.items()])
    assert [r.task for r in run] == list(cases)
    for label, (_spec, param) in cases.items():
        assert_failed_cleanly(run.task(label), param)
    assert not netns_exists(ns)


def test_two_owners_never_remove_each_others_objects(run_tasks, netns):
    """Two scopes purge on one host, beside an unmarked namespace (another tool's) and one marked by
    0.1.0 (no owner: the default owner's, which no test may purge: it is every default user's)."""
    owner_a, owner_b = OWNER + "-a", OWNER + "-b"
    a1, a2, b1, b2 = netns.name(), netns.name(), netns.name(), netns.name()
    unmarked, old = netns(), netns()
    ip("link", "set", "dev", "lo", "alias", "managed-by=linuxnet.ipvlan", netns=old)
    run = run_tasks(
        [
            topology_task("A makes a1 a2", [{"name": a1}, {"name": a2}], owner=owner_a, purge=True),
            topology_task("B makes b1 b2", [{"name": b1}, {"name": b2}], owner=owner_b, purge=True),
            topology_task("A again", [{"name": a1}, {"name": a2}], owner=owner_a, purge=True),
            topology_task("Check A keeps a1", [{"name": a1}], owner=owner_a, purge=True, check_mode=True),
            topology_task("A keeps a1", [{"name": a1}], owner=owner_a, purge=True),
            topology_task("B keeps nothing", [], owner=owner_b, purge=True),
            topology_task("B again", [], owner=owner_b, purge=True),
            topology_task("A again at the end", [{"name": a1}], owner=owner_a, purge=True),
        ]
    )
    assert run.task("A makes a1 a2")["marker"] == "managed-by=linuxnet.ipvlan owner=" + owner_a
    made_by_b = {a for a in run.task("B makes b1 b2")["actions"] if a.startswith("create namespace")}
    assert made_by_b == {f"create namespace {b1}", f"create namespace {b2}"}, "B's run touched A's namespaces"
    assert not run.task("A again").changed, "A's purge saw B's namespaces"
    assert run.task("Check A keeps a1")["actions"] == run.task("A keeps a1")["actions"] == [f"delete namespace {a2}"]
    assert sorted(run.task("B keeps nothing")["actions"]) == sorted([f"delete namespace {b1}", f"delete namespace {b2}"])
    assert not run.task("B again").changed and not run.task("A again at the end").changed
    names = netns_names()
    assert a1 in names and not {a2, b1, b2} & names
    assert {unmarked, old} <= names, "a purge removed what it does not own"
    assert_marked(a1, "managed-by=linuxnet.ipvlan owner=" + owner_a)
    assert link(unmarked, "lo").get("ifalias") is None
    assert link(old, "lo").get("ifalias") == "managed-by=linuxnet.ipvlan"


def test_bad_owner_fails_and_creates_nothing(run_tasks, netns):
    ns = netns.name()
    cases = {"empty": "", "space": "a b", "equals": "a=b", "unicode": "t\u00e9", "too long": "x" * 223}
    run = run_tasks([topology_task(label, [{"name": ns}], owner=owner, ignore_errors=True)
                     for label, owner in cases.items()])
    for label in cases:
        assert_failed_cleanly(run.task(label), "owner: ")
    assert "222" in run.task("too long").msg
    assert not netns_exists(ns)


def test_persist_without_systemd(run_tasks, netns):
    """This host runs no systemd (the VM scenario `persistence` installs the unit for real): a unit
    to remove that is not there is no change and no systemctl call; a unit to install fails before
    anything is changed."""
    if os.path.isdir("/run/systemd/system"):
        pytest.fail("this test needs a host without systemd; the unit itself is tested in molecule/persistence")
    ns = netns.name()
    unit = f"{ns}.service"
    declared = [{"name": ns}]
    run = run_tasks([
        topology_task("Install", declared, persist={"unit": unit}, ignore_errors=True),
        topology_task("Converge, no unit", declared, persist={"state": "absent", "unit": unit}),
        topology_task("Again", declared, persist={"state": "absent", "unit": unit}),
    ])
    assert_failed_cleanly(run.task("Install"), "persist:", "systemd")
    assert run.task("Converge, no unit").changed and netns_exists(ns)
    assert not [a for a in run.task("Converge, no unit")["actions"] if "unit" in a]
    assert not run.task("Again").changed and run.task("Again")["actions"] == []
    assert not os.path.exists(f"/etc/systemd/system/{unit}")
