# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.ipvlan on a host kernel WITHOUT ipvlan support (creating one fails with errno 95).

What such a host can show: the module says the kernel lacks ipvlan, leaves nothing behind, never
touches a link that is not an ipvlan, and rejects bad input naming the parameter. Creating and
changing real slaves is covered by the Molecule scenarios on VMs whose kernel has ipvlan.
"""

from __future__ import annotations

import json

import pytest

import helpers
from helpers import assert_failed_cleanly, is_up, link, link_kind, links, netns_exists

MODULE = "linuxnet.ipvlan.ipvlan"


def ipvlan_task(label: str, **args) -> dict:
    extra = {key: args.pop(key) for key in ("check_mode", "diff", "ignore_errors") if key in args}
    return {"name": label, MODULE: args, **extra}


def link_names(netns: str | None) -> set[str]:
    return {entry["ifname"] for entry in links(netns)}


@pytest.fixture
def master(netns, veth):
    """(namespace, master, other namespace): an up veth end as master, its peer in the other namespace."""
    ns_a, ns_b = netns(), netns()
    dev = veth(ns_a, ns_b, up=True)[0]
    return ns_a, dev, ns_b


def test_host_kernel_has_no_ipvlan():
    """The premise of this file: if this fails, the host gained ipvlan and real slaves can be tested here."""
    assert not helpers.kernel_supports("ipvlan"), "this host kernel supports ipvlan: extend these tests"


def test_no_ipvlan_support_is_reported_and_nothing_is_left(run_tasks, master):
    ns_a, dev, ns_b = master
    before = {ns: link_names(ns) for ns in (ns_a, ns_b, None)}
    name = helpers.new_name()
    beside = {"name": name, "master": dev, "master_netns": ns_a, "netns": ns_a, "mode": "l2"}
    moved = {"name": name, "master": dev, "master_netns": ns_a, "netns": ns_b, "mode": "l3", "flags": "private",
             "mtu": 1400, "admin_state": "up"}
    run = run_tasks(
        [
            ipvlan_task("Check", check_mode=True, diff=True, **beside),
            ipvlan_task("Beside its master", diff=True, ignore_errors=True, **beside),
            ipvlan_task("In another namespace", ignore_errors=True, **moved),
            ipvlan_task("Absent", name=name, netns=ns_a, state="absent"),
        ]
    )
    check = run.task("Check")
    assert check.changed and check["actions"] == [
        f"create ipvlan {name} on {dev}, mode l2 bridge in namespace {ns_a}"
    ]
    assert check.diff["after"][ns_a]["links"][name]["kind"] == "ipvlan"
    for label in ("Beside its master", "In another namespace"):
        result = run.task(label)
        assert result.failed and not result.changed, result
        assert "no ipvlan support" in result.msg, result
        assert result["errno"] == 95, result
        assert f"create ipvlan {name} on {dev}" in result.msg, result
        assert "Traceback" not in json.dumps(dict(result)), result
    absent = run.task("Absent")
    assert not absent.changed and absent["actions"] == [] and absent["link"] == {}
    assert {ns: link_names(ns) for ns in (ns_a, ns_b, None)} == before
    assert is_up(link(ns_a, dev)), "the master changed"


def test_a_link_that_is_not_an_ipvlan_is_left_alone(run_tasks, master, veth):
    ns_a, dev, ns_b = master
    other_master = veth(ns_a, ns_b, up=True)[0]
    run = run_tasks(
        [
            ipvlan_task("Remove a veth", name=dev, netns=ns_a, state="absent", ignore_errors=True),
            ipvlan_task("Turn a veth into an ipvlan", name=dev, netns=ns_a, master=other_master, master_netns=ns_a,
                        ignore_errors=True),
        ]
    )
    for result in run:
        assert result.failed and not result.changed, result
        assert result.msg.startswith(f"name: {dev} in namespace {ns_a} is a veth link, not an ipvlan"), result
    assert "recreate" in run.task("Turn a veth into an ipvlan").msg
    assert link_kind(link(ns_a, dev)) == "veth" and is_up(link(ns_a, dev))


def test_bad_input_fails_naming_the_parameter(run_tasks, master, netns, veth):
    ns_a, dev, ns_b = master
    down_master = veth(ns_a, ns_b)[0]  # left down
    missing_ns = netns.name()
    name = helpers.new_name()
    base = {"name": name, "master": dev, "master_netns": ns_a, "netns": ns_a}
    cases = {
        "mode not in choices": (dict(base, mode="l4"), "value of mode", "l2, l3, l3s"),
        "flags not in choices": (dict(base, flags="shared"), "value of flags", "bridge, private, vepa"),
        "name too long": (dict(base, name="x" * 16), "name", "15"),
        "name with colon": (dict(base, name="ipvl:0"), "name", "ipvl:0"),
        "master equal to name": (dict(base, name=dev), "master", "its own master"),
        "master missing": (dict(base, master=helpers.new_name()), "master", "not found"),
        "master not given": ({"name": name, "netns": ns_a}, "state is present but", "missing: master"),
        "master down": (dict(base, master=down_master), "master", "down"),
        "netns invalid": (dict(base, netns="a b"), "netns", "a b"),
        "netns missing": (dict(base, netns=missing_ns), "netns", missing_ns),
        "master_netns missing": (dict(base, master_netns=missing_ns), "master_netns", missing_ns),
        "mtu above the master's": (dict(base, mtu=1501), "mtu", "1501"),
        "mtu below the minimum": (dict(base, mtu=10), "mtu", "10"),
    }
    run = run_tasks([ipvlan_task(label, ignore_errors=True, **args) for label, (args, *_unused) in cases.items()])
    assert [r.task for r in run] == list(cases)
    for label, (_args, start, word) in cases.items():
        assert_failed_cleanly(run.task(label), start if " " in start else start + ": ", word)
    assert not netns_exists(missing_ns)
    assert name not in link_names(ns_a) | link_names(ns_b) | link_names(None)


def test_nothing_is_destroyed_or_made_before_a_missing_ipvlan_driver_is_found(run_tasks, master, netns, veth):
    """Capabilities are asked before the first action: a recreate keeps its veth, no namespace is made."""
    ns_a, dev, ns_b = master
    other = veth(ns_a, ns_b, up=True)[0]
    new_ns = netns.name()
    before = {ns: link_names(ns) for ns in (ns_a, ns_b, None)}
    run = run_tasks(
        [
            ipvlan_task("Check a recreate", name=dev, netns=ns_a, master=other, master_netns=ns_a, recreate=True,
                        check_mode=True),
            ipvlan_task("Recreate a veth as an ipvlan", name=dev, netns=ns_a, master=other, master_netns=ns_a,
                        recreate=True, ignore_errors=True),
            {"name": "Topology with a new namespace", "ignore_errors": True, "linuxnet.ipvlan.topology": {
                "namespaces": [{"name": new_ns, "ipvlans": [{"name": "ipvl0", "master": dev, "master_netns": ns_a}]}]}},
        ]
    )
    check = run.task("Check a recreate")
    assert check.changed and any("no ipvlan support" in w for w in check.get("warnings", [])), check
    for label in ("Recreate a veth as an ipvlan", "Topology with a new namespace"):
        result = run.task(label)
        assert result.failed and not result.changed, result
        assert "no ipvlan support" in result.msg and "nothing was changed" in result.msg, result
    assert {ns: link_names(ns) for ns in (ns_a, ns_b, None)} == before
    assert link_kind(link(ns_a, dev)) == "veth" and is_up(link(ns_a, dev))
    assert not netns_exists(new_ns)
