# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.route on the host kernel, read back with `ip -j route`."""

from __future__ import annotations

import json

import pytest

import helpers
from helpers import assert_failed_cleanly, ip, netns_exists, routes

MODULE = "linuxnet.ipvlan.route"


def route_task(label: str, **args) -> dict:
    extra = {key: args.pop(key) for key in ("check_mode", "diff", "ignore_errors") if key in args}
    return {"name": label, MODULE: args, **extra}


def route_show_task(label: str, netns: str, family: int = 4, table: str = "main") -> dict:
    """`ip -j route show` as a task: the kernel's view between two module tasks of one play."""
    argv = ["ip", "-j", f"-{family}", "-n", netns, "route", "show", "table", table]
    return {"name": label, "ansible.builtin.command": {"argv": argv}, "changed_when": False}


def shown(result) -> list[dict]:
    out = result["stdout"].strip()
    return json.loads(out) if out else []


def static(entries: list[dict]) -> list[dict]:
    """The routes the module made (protocol static), as opposed to the kernel's own."""
    return [entry for entry in entries if entry.get("protocol") == "static"]


def with_dst(entries: list[dict], dst: str) -> list[dict]:
    return [entry for entry in entries if entry["dst"] == dst]


def user_routes(netns: str) -> list[dict]:
    """Every route of every table but the kernel's own (connected, local, multicast)."""
    return [entry for family in (4, 6) for entry in routes(netns, family=family, table="all")
            if entry.get("protocol") != "kernel"]


def assert_check_predicts_real(run, check_label: str, real_label: str) -> None:
    check, real = run.task(check_label), run.task(real_label)
    assert check.changed and real.changed, (check, real)
    assert real["actions"] == check["actions"]
    assert real.diff == check.diff
    # The returned routes: predicted by the check run, read from the kernel by the real one. For a
    # route given without dev, the prediction names the device the kernel picks.
    assert real["routes"] == check["routes"]


@pytest.fixture
def wire(netns, veth):
    """(namespace, dev): a veth end, up, with 192.0.2.1/24 and 2001:db8::1/64 (nodad)."""
    ns_a, ns_b = netns(), netns()
    dev = veth(ns_a, ns_b, up=True)[0]
    ip("address", "add", "192.0.2.1/24", "dev", dev, netns=ns_a)
    ip("address", "add", "2001:db8::1/64", "dev", dev, "nodad", netns=ns_a)
    return ns_a, dev


def test_default_routes_ipv4_and_ipv6(run_tasks, wire):
    ns, dev = wire
    v4 = {"netns": ns, "dst": "default", "gateway": "192.0.2.254"}
    v6 = {"netns": ns, "dst": "default", "gateway": "2001:db8::fe", "dev": dev}
    run = run_tasks(
        [
            route_task("Check v4", check_mode=True, diff=True, **v4),
            route_show_task("Show after check", ns),
            route_task("Add v4", diff=True, **v4),
            route_task("Add v4 again", diff=True, **v4),
            route_task("Check v6", check_mode=True, diff=True, **v6),
            route_show_task("Show v6 after check", ns, family=6),
            route_task("Add v6", diff=True, **v6),
            route_task("Add v6 again", **v6),
            route_task("Add v6 again, metric 1024 said", metric=1024, **v6),
            route_task("Check v6 again", check_mode=True, **v6),
        ]
    )
    assert with_dst(shown(run.task("Show after check")), "default") == [], "check mode added a route"
    assert with_dst(shown(run.task("Show v6 after check")), "default") == [], "check mode added a route"
    assert_check_predicts_real(run, "Check v4", "Add v4")
    assert_check_predicts_real(run, "Check v6", "Add v6")
    assert run.task("Add v4")["actions"] == [f"add route default via 192.0.2.254 dev {dev} in namespace {ns}"]
    assert run.task("Add v6")["actions"] == [
        f"add route default via 2001:db8::fe dev {dev} metric 1024 in namespace {ns}"
    ]
    assert run.task("Add v4").diff == {
        "before": {ns: {"state": "present", "routes": []}},
        "after": {ns: {"state": "present", "routes": [f"default via 192.0.2.254 dev {dev}"]}},
    }
    for label in ("Add v4 again", "Add v6 again", "Add v6 again, metric 1024 said", "Check v6 again"):
        assert not run.task(label).changed and run.task(label)["actions"] == [], label
    assert run.task("Add v4 again").diff["before"] == run.task("Add v4 again").diff["after"]

    (default4,) = with_dst(routes(ns), "default")
    assert default4["gateway"] == "192.0.2.254" and default4["dev"] == dev
    assert default4["protocol"] == "static" and "metric" not in default4
    (default6,) = with_dst(routes(ns, family=6), "default")
    assert default6["gateway"] == "2001:db8::fe" and default6["dev"] == dev
    assert default6["protocol"] == "static" and default6["metric"] == 1024
    returned = {r["family"]: r for r in run.task("Check v6 again")["routes"] if r["dst"] == "default"}
    assert returned["ipv4"]["gateway"] == "192.0.2.254" and returned["ipv6"]["metric"] == 1024


def test_gateway_or_dev_change_replaces(run_tasks, wire, netns, veth):
    ns, dev = wire
    other_dev = veth(ns, netns(), up=True)[0]
    ip("route", "add", "default", "via", "192.0.2.254", "proto", "static", netns=ns)
    ip("-6", "route", "add", "default", "via", "2001:db8::fe", "dev", dev, "proto", "static", netns=ns)
    ip("route", "add", "198.51.100.0/24", "dev", dev, "proto", "static", netns=ns)
    v4 = {"netns": ns, "dst": "default", "gateway": "192.0.2.253"}
    v6 = {"netns": ns, "dst": "default", "gateway": "2001:db8::fd", "dev": dev}
    moved = {"netns": ns, "dst": "198.51.100.0/24", "dev": other_dev}
    run = run_tasks(
        [
            route_task("Check v4", check_mode=True, diff=True, **v4),
            route_task("Replace v4", diff=True, **v4),
            route_task("Replace v4 again", **v4),
            route_task("Check v6", check_mode=True, diff=True, **v6),
            route_task("Replace v6", diff=True, **v6),
            route_task("Replace v6 again", **v6),
            route_task("Check dev", check_mode=True, diff=True, **moved),
            route_task("Replace dev", diff=True, **moved),
            route_task("Replace dev again", **moved),
        ]
    )
    assert_check_predicts_real(run, "Check v4", "Replace v4")
    assert_check_predicts_real(run, "Check v6", "Replace v6")
    assert_check_predicts_real(run, "Check dev", "Replace dev")
    assert run.task("Replace dev")["actions"] == [
        f"replace route 198.51.100.0/24 dev {dev} scope link with 198.51.100.0/24 dev {other_dev} scope link"
        f" in namespace {ns}"
    ]
    assert not run.task("Replace dev again").changed
    (route,) = with_dst(routes(ns), "198.51.100.0/24")
    assert route["dev"] == other_dev and route["scope"] == "link"
    assert run.task("Replace v4")["actions"] == [
        f"replace route default via 192.0.2.254 dev {dev} with default via 192.0.2.253 dev {dev} in namespace {ns}"
    ]
    # The diff shows every route of the namespace.
    others = [f"198.51.100.0/24 dev {dev} scope link", f"default via 2001:db8::fe dev {dev} metric 1024"]
    before = sorted([f"default via 192.0.2.254 dev {dev}"] + others)
    assert run.task("Replace v4").diff["before"][ns]["routes"] == before
    assert run.task("Replace v4").diff["after"][ns]["routes"] == sorted([f"default via 192.0.2.253 dev {dev}"] + others)
    assert not run.task("Replace v4 again").changed and not run.task("Replace v6 again").changed
    (default4,) = with_dst(routes(ns), "default")
    assert default4["gateway"] == "192.0.2.253"
    (default6,) = with_dst(routes(ns, family=6), "default")
    assert default6["gateway"] == "2001:db8::fd" and default6["metric"] == 1024


def test_metric_table_scope_and_onlink(run_tasks, wire):
    ns, dev = wire
    cases = {
        "metric": {"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "metric": 50},
        "table": {"dst": "203.0.113.0/24", "gateway": "192.0.2.254", "table": "100"},
        "scope link": {"dst": "198.51.100.128/25", "dev": dev, "scope": "link"},
        "dev only": {"dst": "198.51.100.64/26", "dev": dev},
        "onlink": {"dst": "203.0.113.128/25", "gateway": "198.51.100.1", "dev": dev, "onlink": True},
        "host route": {"dst": "203.0.113.7", "gateway": "192.0.2.254"},
        "v6 metric": {"dst": "2001:db8:100::/48", "gateway": "2001:db8::fe", "metric": 300},
        "v6 table": {"dst": "2001:db8:200::/48", "gateway": "2001:db8::fe", "table": "100"},
        "v6 onlink": {"dst": "2001:db8:300::/48", "gateway": "2001:db8:ffff::1", "dev": dev, "onlink": True},
    }
    tasks = []
    for label, args in cases.items():
        args = dict(args, netns=ns)
        tasks += [
            route_task(f"Check {label}", check_mode=True, diff=True, **args),
            route_task(label, diff=True, **args),
            route_task(f"{label} again", **args),
        ]
    run = run_tasks(tasks)
    for label in cases:
        assert_check_predicts_real(run, f"Check {label}", label)
        assert not run.task(f"{label} again").changed, run.task(f"{label} again")
    main4, main6 = routes(ns), routes(ns, family=6)
    table4, table6 = routes(ns, table=100), routes(ns, family=6, table=100)

    (route,) = with_dst(main4, "198.51.100.0/24")
    assert route["gateway"] == "192.0.2.254" and route["metric"] == 50
    (route,) = with_dst(table4, "203.0.113.0/24")
    assert route["gateway"] == "192.0.2.254" and route["protocol"] == "static"
    assert not with_dst(main4, "203.0.113.0/24")
    (route,) = with_dst(main4, "198.51.100.128/25")
    assert route["scope"] == "link" and route["dev"] == dev and "gateway" not in route
    (route,) = with_dst(main4, "198.51.100.64/26")
    assert route["scope"] == "link" and route["dev"] == dev
    (route,) = with_dst(main4, "203.0.113.128/25")
    assert route["gateway"] == "198.51.100.1" and "onlink" in route["flags"]
    (route,) = with_dst(main4, "203.0.113.7")
    assert route["gateway"] == "192.0.2.254"
    (route,) = with_dst(main6, "2001:db8:100::/48")
    assert route["gateway"] == "2001:db8::fe" and route["metric"] == 300
    (route,) = with_dst(table6, "2001:db8:200::/48")
    assert route["gateway"] == "2001:db8::fe" and route["metric"] == 1024
    (route,) = with_dst(main6, "2001:db8:300::/48")
    assert route["gateway"] == "2001:db8:ffff::1" and "onlink" in route["flags"]
    assert len(static(main4)) == 5 and len(static(table4)) == 1
    assert len(static(main6)) == 2 and len(static(table6)) == 1


def test_absent(run_tasks, wire):
    ns, dev = wire
    ip("route", "add", "198.51.100.0/24", "via", "192.0.2.254", "proto", "static", netns=ns)
    ip("route", "add", "203.0.113.0/24", "via", "192.0.2.254", "table", "100", "proto", "static", netns=ns)
    ip("-6", "route", "add", "2001:db8:100::/48", "via", "2001:db8::fe", "proto", "static", netns=ns)
    v4 = {"netns": ns, "dst": "198.51.100.0/24", "state": "absent"}
    other_gateway = {"netns": ns, "dst": "203.0.113.0/24", "gateway": "192.0.2.253", "table": "100",
                     "state": "absent"}
    table = {"netns": ns, "dst": "203.0.113.0/24", "table": "100", "state": "absent"}
    v6 = {"netns": ns, "dst": "2001:db8:100::/48", "gateway": "2001:db8::fe", "state": "absent"}
    run = run_tasks(
        [
            route_task("Check v4", check_mode=True, diff=True, **v4),
            route_show_task("Show after check", ns),
            route_task("Remove v4", diff=True, **v4),
            route_task("Remove v4 again", **v4),
            route_task("Another gateway", **other_gateway),
            route_task("Check table", check_mode=True, diff=True, **table),
            route_task("Remove table", diff=True, **table),
            route_task("Remove table again", **table),
            route_task("Check v6", check_mode=True, diff=True, **v6),
            route_task("Remove v6", diff=True, **v6),
            route_task("Remove v6 again", **v6),
        ]
    )
    assert with_dst(shown(run.task("Show after check")), "198.51.100.0/24"), "check mode removed the route"
    for check, real in (("Check v4", "Remove v4"), ("Check table", "Remove table"), ("Check v6", "Remove v6")):
        assert_check_predicts_real(run, check, real)
    assert run.task("Remove v4")["actions"] == [
        f"delete route 198.51.100.0/24 via 192.0.2.254 dev {dev} in namespace {ns}"
    ]
    for label in ("Remove v4 again", "Another gateway", "Remove table again", "Remove v6 again"):
        assert not run.task(label).changed and run.task(label)["actions"] == [], label
    assert static(routes(ns)) == [] and static(routes(ns, table=100)) == []
    assert static(routes(ns, family=6)) == []
    # The kernel's connected routes are left alone.
    assert with_dst(routes(ns), "192.0.2.0/24") and with_dst(routes(ns, family=6), "2001:db8::/64")


def test_kernel_routes_never_drift(run_tasks, wire):
    ns, dev = wire
    v4 = {"netns": ns, "dst": "198.51.100.0/24", "gateway": "192.0.2.254", "dev": dev}
    v6 = {"netns": ns, "dst": "2001:db8:100::/48", "gateway": "2001:db8::fe", "dev": dev}
    first = run_tasks([route_task("Add v4", **v4), route_task("Add v6", **v6)])
    assert first[0].changed and first[1].changed
    # The kernel adds connected routes (and IPv6 local/multicast ones) for new addresses.
    ip("address", "add", "203.0.113.1/24", "dev", dev, netns=ns)
    ip("address", "add", "2001:db8:1::1/64", "dev", dev, "nodad", netns=ns)
    ip("link", "set", "dev", "lo", "up", netns=ns)
    assert with_dst(routes(ns), "203.0.113.0/24")[0]["protocol"] == "kernel"
    assert with_dst(routes(ns, family=6), "2001:db8:1::/64")[0]["protocol"] == "kernel"
    again = run_tasks([route_task("Add v4", diff=True, **v4), route_task("Add v6", diff=True, **v6)])
    for result in again:
        assert not result.changed and result["actions"] == [], result
        assert result.diff["before"] == result.diff["after"]
        assert {r["proto"] for r in result["routes"]} == {4}, result["routes"]
    assert sorted(r["dst"] for r in again[1]["routes"]) == ["198.51.100.0/24", "2001:db8:100::/48"]


def test_bad_input_fails_and_changes_nothing(run_tasks, wire, netns):
    ns, dev = wire
    missing_ns = netns.name()
    missing_dev = helpers.new_name()
    before = user_routes(ns)
    cases = {
        "unreachable gateway": ({"dst": "198.51.100.0/24", "gateway": "203.0.113.1"}, "gateway", "203.0.113.1"),
        "unreachable gateway with dev": (
            {"dst": "198.51.100.0/24", "gateway": "203.0.113.1", "dev": dev}, "gateway", "onlink"),
        "unreachable v6 gateway": (
            {"dst": "2001:db8:100::/48", "gateway": "2001:db8:ffff::1"}, "gateway", "2001:db8:ffff::1"),
        "v6 gateway for v4 dst": ({"dst": "198.51.100.0/24", "gateway": "2001:db8::fe"}, "gateway", "IPv"),
        "v4 gateway for v6 dst": ({"dst": "2001:db8:100::/48", "gateway": "192.0.2.254"}, "gateway", "IPv"),
        "not a gateway": ({"dst": "198.51.100.0/24", "gateway": "192.0.2"}, "gateway", "192.0.2"),
        "not a destination": ({"dst": "198.51.100.0/33", "gateway": "192.0.2.254"}, "dst", "198.51.100.0/33"),
        "host bits set": ({"dst": "198.51.100.1/24", "gateway": "192.0.2.254"}, "dst", "198.51.100.1/24"),
        "missing namespace": (
            {"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "netns": missing_ns}, "netns", missing_ns),
        "missing link": ({"dst": "198.51.100.0/24", "dev": missing_dev}, "dev", missing_dev),
        "bad link name": ({"dst": "198.51.100.0/24", "dev": "a:b"}, "dev", "a:b"),
        "no gateway nor dev": ({"dst": "198.51.100.0/24"}, "gateway", "dev"),
        "metric out of range": (
            {"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "metric": 2**32}, "metric", str(2**32)),
        "local table": ({"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "table": "local"}, "table", "local"),
        "bad table": ({"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "table": "nope"}, "table", "nope"),
    }
    run = run_tasks(
        [route_task(label, ignore_errors=True, **{"netns": ns, **args}) for label, (args, *_unused) in cases.items()]
    )
    assert [r.task for r in run] == list(cases)
    for label, (_args, param, word) in cases.items():
        assert_failed_cleanly(run.task(label), param + ":", word)
    assert user_routes(ns) == before
    assert not netns_exists(missing_ns)
