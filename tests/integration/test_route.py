# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.route on the host kernel, read back with `ip -j route`."""

from __future__ import annotations

import ipaddress
import json
import sys
import time

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


def settled(netns: str, *devs: str) -> None:
    """Wait until the links have their fe80::/64 route: the kernel adds it when the carrier comes up,
    after `ip link set up` returns, and a test must not read in between."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if set(devs) <= {entry.get("dev") for entry in with_dst(routes(netns, family=6), "fe80::/64")}:
            return
        time.sleep(0.05)
    raise AssertionError(f"no fe80::/64 route on {devs} in {netns} after 10 s")


@pytest.fixture
def wire(netns, veth):
    """(namespace, dev): a veth end, up, with 192.0.2.1/24 and 2001:db8::1/64 (nodad)."""
    ns_a, ns_b = netns(), netns()
    dev = veth(ns_a, ns_b, up=True)[0]
    settled(ns_a, dev)
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
        "zone id naming another dev": (
            {"dst": "default", "gateway": f"fe80::1%{missing_dev}", "dev": dev}, "gateway", missing_dev),
        "zone id on a global gateway": (
            {"dst": "2001:db8:100::/48", "gateway": f"2001:db8::fe%{dev}"}, "gateway", "zone id"),
        "zone id in dst": ({"dst": f"fe80::%{dev}/64", "dev": dev}, "dst", "zone id"),
        "scope link via a gateway": (
            {"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "scope": "link"}, "scope", "gateway"),
        "blackhole with a gateway": (
            {"dst": "198.51.100.0/24", "type": "blackhole", "gateway": "192.0.2.254"}, "type", "no next hop"),
        "unknown type": ({"dst": "198.51.100.0/24", "type": "local", "dev": dev}, "value of type must be one of",
                         "local"),
        "nexthops and gateway": (
            {"dst": "198.51.100.0/24", "gateway": "192.0.2.254", "nexthops": [{"gateway": "192.0.2.253"}]},
            "parameters are mutually exclusive", "nexthops|gateway"),
        "nexthop weight 0": (
            {"dst": "198.51.100.0/24", "nexthops": [{"gateway": "192.0.2.254", "weight": 0}, {"dev": dev}]},
            "nexthops[0].weight", "0"),
        "nexthop without gateway nor dev": (
            {"dst": "198.51.100.0/24", "nexthops": [{"gateway": "192.0.2.254"}, {"weight": 2}]},
            "nexthops[1].gateway", "dev"),
        "v6 device-only nexthop": (
            {"dst": "2001:db8:100::/48", "nexthops": [{"gateway": "2001:db8::fe"}, {"dev": dev}]},
            "nexthops", "gateway in each nexthop"),
        "unreachable nexthop gateway": (
            {"dst": "198.51.100.0/24", "nexthops": [{"gateway": "192.0.2.254"}, {"gateway": "203.0.113.1"}]},
            "gateway", "203.0.113.1"),
    }
    run = run_tasks(
        [route_task(label, ignore_errors=True, **{"netns": ns, **args}) for label, (args, *_unused) in cases.items()]
    )
    assert [r.task for r in run] == list(cases)
    for label, (_args, param, word) in cases.items():
        assert_failed_cleanly(run.task(label), param + ":", word)
    assert user_routes(ns) == before
    assert not netns_exists(missing_ns)


def entries(netns: str, family: int, dst: str) -> list[dict]:
    """The routes to DST in every table but the local one, as `ip -j -d route` reports them."""
    return [entry for entry in routes(netns, family=family, table="all")
            if entry["dst"] == dst and entry.get("table") != "local"]


def converge_tasks(name: str, **args) -> list[dict]:
    """Check mode, the real run and a second run of one route task."""
    return [route_task(f"Check {name}", check_mode=True, diff=True, **args), route_task(name, diff=True, **args),
            route_task(f"{name} again", diff=True, **args)]


def assert_converged(run, name: str) -> None:
    """Check mode predicted the real run, which changed something; the second run changed nothing."""
    assert_check_predicts_real(run, f"Check {name}", name)
    again = run.task(f"{name} again")
    assert not again.changed and again["actions"] == [], again
    assert again.diff["before"] == again.diff["after"]


def test_absent_sends_the_whole_identity(run_tasks, wire):
    ns, dev = wire
    for argv in (["198.51.100.0/24", "dev", dev],                        # scope link
                 ["blackhole", "203.0.113.0/24"],
                 ["203.0.113.0/24", "via", "192.0.2.254", "table", "100"],
                 ["198.18.0.0/24", "via", "192.0.2.254"],
                 ["198.18.0.0/24", "via", "192.0.2.254", "metric", "100"],
                 ["198.18.1.0/24", "nexthop", "via", "192.0.2.254", "nexthop", "via", "192.0.2.253"]):
        ip("route", "add", "proto", "static", *argv, netns=ns)
    ip("-6", "route", "add", "proto", "static", "2001:db8:40::/48", "nexthop", "via", "2001:db8::fe", "dev", dev,
       "nexthop", "via", "2001:db8::fd", "dev", dev, netns=ns)
    cases = {
        # pyroute2 alone sends scope universe: the kernel found nothing (ESRCH) and the route stayed.
        "dev route": {"dst": "198.51.100.0/24"},
        "blackhole only": {"dst": "203.0.113.0/24", "type": "blackhole"},
        # Priority 0 matches any metric in the kernel: the metric 0 route goes, not the metric 100 one.
        "metric 0": {"dst": "198.18.0.0/24", "gateway": "192.0.2.254"},
        "v4 multipath": {"dst": "198.18.1.0/24"},
        "v6 multipath": {"dst": "2001:db8:40::/48",
                         "nexthops": [{"gateway": "2001:db8::fd", "dev": dev}, {"gateway": "2001:db8::fe"}]},
    }
    run = run_tasks([task for name, args in cases.items()
                     for task in converge_tasks(name, netns=ns, state="absent", **args)])
    for name in cases:
        assert_converged(run, name)
    assert run.task("dev route")["actions"] == [
        f"delete route 198.51.100.0/24 dev {dev} scope link in namespace {ns}"]
    assert entries(ns, 4, "198.51.100.0/24") == []
    assert [(e["type"], e["table"]) for e in entries(ns, 4, "203.0.113.0/24")] == [("unicast", "100")]
    assert [e.get("metric") for e in entries(ns, 4, "198.18.0.0/24")] == [100]
    assert entries(ns, 4, "198.18.1.0/24") == [] and entries(ns, 6, "2001:db8:40::/48") == []


def test_routes_the_kernel_made_are_read_shown_and_can_be_declared(run_tasks, wire):
    ns, dev = wire
    same = {"netns": ns, "dst": "192.0.2.0/24", "dev": dev}
    v6 = {"netns": ns, "dst": "2001:db8::/64", "dev": dev, "metric": 256}
    host = {"netns": ns, "dst": "192.0.2.0/24", "dev": dev, "scope": "host"}
    kernel = sorted((e["dst"], e["dev"], e["type"]) for family in (4, 6) for e in routes(ns, family=family)
                    if e["protocol"] == "kernel")
    run = run_tasks([{"name": "Facts", "linuxnet.ipvlan.facts": {"netns": [ns], "include_root": False}},
                     route_task("Check same", check_mode=True, **same), route_task("Same", **same),
                     route_task("Same v6", **v6)] + converge_tasks("Host scope", **host))
    facts = run.task("Facts")["ansible_facts"]["linuxnet_ipvlan"]["namespaces"][ns]["routes"]
    shown_kernel = sorted((r["dst"], r["dev"], r["type"]) for r in facts if r["kernel"])
    assert shown_kernel == kernel
    assert ("192.0.2.0/24", dev, "unicast") in shown_kernel and ("fe80::/64", dev, "unicast") in shown_kernel
    (connected,) = [r for r in facts if r["dst"] == "192.0.2.0/24"]
    assert (connected["proto"], connected["scope"], connected["prefsrc"]) == (2, "link", "192.0.2.1")
    # What the kernel made satisfies the same route declared: no EEXIST, no change.
    for label in ("Check same", "Same", "Same v6"):
        assert not run.task(label).changed and run.task(label)["actions"] == [], run.task(label)
    # Another scope replaces it, as `ip route replace` would.
    assert_converged(run, "Host scope")
    assert run.task("Host scope")["actions"] == [
        f"replace route 192.0.2.0/24 dev {dev} proto kernel scope link src 192.0.2.1 with 192.0.2.0/24 dev {dev} "
        f"scope host in namespace {ns}"]
    (route,) = entries(ns, 4, "192.0.2.0/24")
    assert (route["protocol"], route["scope"]) == ("static", "host")


def test_route_types(run_tasks, wire):
    ns, dev = wire
    ip("route", "add", "198.18.9.0/24", "via", "192.0.2.254", "proto", "static", netns=ns)
    cases = {
        "blackhole": {"dst": "198.18.0.0/24", "type": "blackhole"},
        "unreachable v6 default": {"dst": "default", "family": "ipv6", "type": "unreachable"},
        "prohibit metric 5": {"dst": "198.18.1.0/24", "type": "prohibit", "metric": 5},
        "throw table 100": {"dst": "198.18.2.0/24", "type": "throw", "table": "100"},
        "blackhole replaces unicast": {"dst": "198.18.9.0/24", "type": "blackhole"},
    }
    run = run_tasks([task for name, args in cases.items() for task in converge_tasks(name, netns=ns, **args)])
    for name in cases:
        assert_converged(run, name)
    assert run.task("unreachable v6 default")["actions"] == [
        f"add route unreachable default dev lo metric 1024 in namespace {ns}"]
    assert run.task("blackhole replaces unicast")["actions"] == [
        f"replace route 198.18.9.0/24 via 192.0.2.254 dev {dev} with blackhole 198.18.9.0/24 in namespace {ns}"]
    found = {dst: [(e["type"], e.get("dev"), e.get("metric", 0), e["table"]) for e in entries(ns, family, dst)]
             for family, dst in ((4, "198.18.0.0/24"), (6, "default"), (4, "198.18.1.0/24"), (4, "198.18.2.0/24"),
                                 (4, "198.18.9.0/24"))}
    assert found == {"198.18.0.0/24": [("blackhole", None, 0, "main")],
                     "default": [("unreachable", "lo", 1024, "main")],
                     "198.18.1.0/24": [("prohibit", None, 5, "main")],
                     "198.18.2.0/24": [("throw", None, 0, "100")],
                     "198.18.9.0/24": [("blackhole", None, 0, "main")]}


def test_multipath(run_tasks, wire, netns, veth):
    ns, dev = wire
    other = veth(ns, netns(), up=True)[0]
    settled(ns, other)
    ip("address", "add", "198.51.100.2/24", "dev", other, netns=ns)
    v4 = {"netns": ns, "dst": "198.18.0.0/24",
          "nexthops": [{"gateway": "192.0.2.254", "weight": 2}, {"gateway": "198.51.100.1"},
                       {"gateway": "203.0.113.9", "dev": dev, "onlink": True}]}
    v4_reordered = {**v4, "nexthops": v4["nexthops"][::-1]}
    v4_weights = {**v4, "nexthops": [{**hop, "weight": 3} for hop in v4["nexthops"]]}
    v6 = {"netns": ns, "dst": "2001:db8:40::/48",
          "nexthops": [{"gateway": "2001:db8::fe"}, {"gateway": f"fe80::1%{other}", "weight": 5}]}
    run = run_tasks(converge_tasks("v4", **v4) + [route_task("v4 reordered", **v4_reordered)]
                    + converge_tasks("v4 weights", **v4_weights) + converge_tasks("v6", **v6))
    for name in ("v4", "v4 weights", "v6"):
        assert_converged(run, name)
    assert not run.task("v4 reordered").changed
    # The devices the kernel picked are the ones check mode named.
    assert run.task("v4")["actions"] == [
        f"add route 198.18.0.0/24 nexthop via 192.0.2.254 dev {dev} weight 2 nexthop via 198.51.100.1 dev {other} "
        f"nexthop via 203.0.113.9 dev {dev} onlink in namespace {ns}"]
    assert run.task("v4 weights")["actions"][0].startswith("replace route 198.18.0.0/24 nexthop")
    (route,) = entries(ns, 4, "198.18.0.0/24")
    assert sorted((h["gateway"], h["dev"], h["weight"], "onlink" in h.get("flags", [])) for h in route["nexthops"]) == [
        ("192.0.2.254", dev, 3, False), ("198.51.100.1", other, 3, False), ("203.0.113.9", dev, 3, True)]
    (route,) = entries(ns, 6, "2001:db8:40::/48")
    assert sorted((h["gateway"], h["dev"], h["weight"]) for h in route["nexthops"]) == [
        ("2001:db8::fe", dev, 1), ("fe80::1", other, 5)]


def test_topology_keeps_exactly_the_declared_routes_and_the_kernels(run_tasks, wire):
    ns, dev = wire
    for argv in (["blackhole", "198.18.0.0/24"], ["198.18.1.0/24", "via", "192.0.2.254", "table", "100"],
                 ["198.18.3.0/24", "via", "inet6", "fe80::fe", "dev", dev],
                 ["198.18.2.0/24", "nexthop", "via", "192.0.2.254", "nexthop", "via", "192.0.2.253"],
                 ["default", "via", "192.0.2.253"]):
        ip("route", "add", "proto", "static", *argv, netns=ns)
    ip("-6", "route", "add", "proto", "static", "unreachable", "2001:db8:5::/48", netns=ns)
    kernel = sorted((e["dst"], e.get("dev")) for family in (4, 6) for e in routes(ns, family=family)
                    if e["protocol"] == "kernel")
    declared = [{"dst": "default", "gateway": "192.0.2.254"}, {"dst": "198.18.0.0/24", "type": "blackhole"},
                {"dst": "2001:db8:40::/48", "nexthops": [{"gateway": "2001:db8::fe"}, {"gateway": "2001:db8::fd"}]}]
    topology = {"linuxnet.ipvlan.topology": {"namespaces": [{"name": ns, "routes": declared}]}}
    duplicate = {"linuxnet.ipvlan.topology": {"namespaces": [{"name": ns, "routes": [
        {"dst": "203.0.113.0/24", "dev": dev}, {"dst": "default", "gateway": "192.0.2.254"},
        {"dst": "0.0.0.0/0", "type": "blackhole"}]}]}, "ignore_errors": True}
    before = oracle_routes(ns)
    run = run_tasks([dict(duplicate, name="Duplicate key"), dict(topology, name="Check", check_mode=True, diff=True),
                     dict(topology, name="Converge", diff=True), dict(topology, name="Again", diff=True)])
    assert_failed_cleanly(run.task("Duplicate key"), "namespaces[0].routes[2]:", "namespaces[0].routes[1]",
                          "blackhole default", "default via 192.0.2.254")
    check, real, again = run.task("Check"), run.task("Converge"), run.task("Again")
    assert check.changed and real["actions"] == check["actions"] and real.diff == check.diff
    assert real["namespaces"] == check["namespaces"]
    assert not again.changed and again["actions"] == []
    deleted = sorted(a for a in real["actions"] if a.startswith("delete route"))
    assert deleted == sorted([
        f"delete route 198.18.1.0/24 via 192.0.2.254 dev {dev} table 100 in namespace {ns}",
        f"delete route 198.18.3.0/24 via fe80::fe dev {dev} in namespace {ns}",
        f"delete route 198.18.2.0/24 nexthop via 192.0.2.254 dev {dev} nexthop via 192.0.2.253 dev {dev} "
        f"in namespace {ns}",
        f"delete route unreachable 2001:db8:5::/48 dev lo metric 1024 in namespace {ns}"])
    assert before != oracle_routes(ns)
    # The kernel's own routes are all there still.
    assert kernel == sorted((e["dst"], e.get("dev")) for family in (4, 6) for e in routes(ns, family=family)
                            if e["protocol"] == "kernel")
    assert [(e["gateway"], e["protocol"]) for e in entries(ns, 4, "default")] == [("192.0.2.254", "static")]
    assert len(entries(ns, 6, "2001:db8:40::/48")[0]["nexthops"]) == 2


# --------------------------------------------------------------------------- the kernel's own rules
# Each rule the planner encodes about routes is watched here on the host kernel: the engine applies
# the actions, and what their predict() said must be what a fresh read and `ip -j route` report.

TABLE_IDS = {"main": 254, "default": 253}


def oracle_routes(netns: str) -> list[tuple]:
    """Every route but the local table's, as `ip -j -d route show table all` reports it, in a normal form."""
    found = []
    for family in (4, 6):
        for entry in helpers.ip_json(netns, f"-{family}", "route", "show", "table", "all"):
            table = entry.get("table", "main")
            if table == "local":
                continue
            dst = entry["dst"]
            if dst == "default":
                dst = "0.0.0.0/0" if family == 4 else "::/0"
            elif "/" not in dst:
                dst += "/32" if family == 4 else "/128"
            hops = tuple(sorted((gateway_of(hop), hop.get("dev"), hop["weight"], "onlink" in hop.get("flags", []))
                                for hop in entry.get("nexthops", [])))
            scope = {"global": "universe"}.get(entry.get("scope"), entry.get("scope")) if family == 4 else None
            found.append((entry.get("type", "unicast"), dst, gateway_of(entry), entry.get("dev"),
                          TABLE_IDS.get(table) or int(table), entry.get("protocol"), entry.get("metric", 0), scope,
                          entry.get("prefsrc"), "onlink" in entry.get("flags", []), hops))
    return sorted(found, key=repr)


def gateway_of(entry: dict):
    """"gateway", or "via" for an IPv4 route through an IPv6 gateway (ip route ... via inet6)."""
    return entry.get("gateway") or entry.get("via", {}).get("host")


def model_routes(routes) -> list[tuple]:
    """Model routes in the normal form of oracle_routes()."""
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import PROTO_NAMES, SCOPE_NAMES

    def text(value):
        return None if value is None else str(value)

    return sorted(((r.type, str(r.dst), text(r.gateway), r.dev, r.table, PROTO_NAMES.get(r.proto, str(r.proto)),
                    r.metric, SCOPE_NAMES[r.scope] if r.family == 4 else None, text(r.prefsrc), r.onlink,
                    tuple(sorted((text(h.gateway), h.dev, h.weight, h.onlink) for h in r.nexthops)))
                   for r in routes), key=repr)


@pytest.fixture
def engine():
    """The collection's engine in this process (pyroute2 of the test virtualenv): (Session, actions module)."""
    if not helpers.COLLECTION_LINK.exists():
        helpers.COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        helpers.COLLECTION_LINK.symlink_to(helpers.REPO_ROOT)
    if str(helpers.COLLECTIONS_PATH) not in sys.path:
        sys.path.insert(0, str(helpers.COLLECTIONS_PATH))
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _actions
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session

    return Session, _actions


def predicted_is_real(engine, netns: str, *actions) -> list[tuple]:
    """Apply ACTIONS in NETNS; their predicted routes must be what the kernel then holds. Returns them."""
    Session, _actions = engine
    with Session() as session:
        after = session.world().copy()
        for action in actions:
            for name in (action.netns, getattr(action, "to_netns", action.netns)):
                after.get(name)   # read before predict, as the planner does
            action.predict(after)
        predicted = model_routes(after.get(netns).routes)
        for action in actions:
            session.apply_one(action)
        session.refresh()
        read = model_routes(session.world().get(netns).routes)
    oracle = oracle_routes(netns)
    assert read == oracle, "the reader and ip(8) disagree"
    assert predicted == read, f"predicted {predicted}\nkernel    {read}"
    return read


def interface(text: str):
    return ipaddress.ip_interface(text)


@pytest.fixture
def two_links(netns, veth):
    """(namespace, a0, a1): two veth ends up (their peers up), a0 with 192.0.2.1/24, 203.0.113.1/24 and
    2001:db8::1/64 + 2001:db8::2/64, a1 with 10.7.0.1/24; routes of every kind through them."""
    ns, peer = netns(), netns()
    a0, a1 = veth(ns, peer, up=True)[0], veth(ns, peer, up=True)[0]
    settled(ns, a0, a1)
    for cidr, dev in (("192.0.2.1/24", a0), ("203.0.113.1/24", a0), ("10.7.0.1/24", a1)):
        ip("address", "add", cidr, "dev", dev, netns=ns)
    for cidr in ("2001:db8::1/64", "2001:db8::2/64"):
        ip("address", "add", cidr, "dev", a0, "nodad", netns=ns)
    for argv in (
        ["198.51.100.0/25", "via", "192.0.2.254"],                              # via the first prefix
        ["198.51.100.128/25", "dev", a0, "src", "192.0.2.1"],                   # prefers 192.0.2.1
        ["198.18.0.0/24", "dev", a1, "src", "192.0.2.1"],                       # the same, on the other link
        ["198.18.1.0/24", "via", "10.7.0.254", "src", "192.0.2.1", "table", "100"],  # not in main
        ["198.18.2.0/24", "via", "203.0.113.254"],
        ["198.18.3.0/24", "via", "192.0.2.254", "dev", a0, "onlink"],
        ["198.18.4.0/24", "nexthop", "via", "192.0.2.254", "dev", a0, "nexthop", "via", "10.7.0.254", "dev", a1],
        ["198.18.5.0/24", "nexthop", "via", "192.0.2.254", "dev", a0, "nexthop", "via", "192.0.2.253", "dev", a0],
        ["blackhole", "198.18.6.0/24"],
        ["198.18.7.0/24", "via", "192.0.2.254", "table", "100"],
        ["198.18.9.0/24", "via", "inet6", "fe80::fe", "dev", a0],               # RFC 5549
    ):
        ip("route", "add", "proto", "static", *argv, netns=ns)
    for argv in (
        ["2001:db8:40::/48", "nexthop", "via", "2001:db8::fe", "dev", a0, "nexthop", "via", "fe80::fe", "dev", a1],
        ["2001:db8:50::/48", "via", "2001:db8::fe"],
    ):
        ip("-6", "route", "add", "proto", "static", *argv, netns=ns)
    return ns, a0, a1


def test_deleting_ipv4_addresses_as_the_kernel_does(engine, two_links):
    ns, a0, a1 = two_links
    actions = engine[1]
    # Not the last IPv4 address of a0: its prefix route, and main-table routes preferring it, go; the
    # table 100 one and those via a gateway in its prefix stay.
    left = predicted_is_real(engine, ns, actions.DeleteAddress(ns, dev=a0, ip=interface("192.0.2.1/24")))
    dsts = {route[1] for route in left}
    assert {"192.0.2.0/24", "198.51.100.128/25", "198.18.0.0/24"}.isdisjoint(dsts)
    assert {"198.51.100.0/25", "198.18.1.0/24", "198.18.3.0/24", "198.18.7.0/24"} <= dsts
    # The last one: every IPv4 route through a0 goes, in every table; a multipath route with a path
    # elsewhere stays (that path dead); a blackhole and the IPv6 routes stay.
    left = predicted_is_real(engine, ns, actions.DeleteAddress(ns, dev=a0, ip=interface("203.0.113.1/24")))
    assert sorted(route[1] for route in left if ":" not in route[1]) == [
        "10.7.0.0/24", "198.18.1.0/24", "198.18.4.0/24", "198.18.6.0/24"]
    assert {"2001:db8:40::/48", "2001:db8:50::/48", "2001:db8::/64"} <= {route[1] for route in left}


def test_deleting_ipv6_addresses_and_secondaries_as_the_kernel_does(engine, two_links):
    ns, a0, _a1 = two_links
    actions = engine[1]
    ip("address", "add", "192.0.2.9/24", "dev", a0, netns=ns)    # a secondary
    left = predicted_is_real(engine, ns, actions.DeleteAddress(ns, dev=a0, ip=interface("192.0.2.9/24")),
                             actions.DeleteAddress(ns, dev=a0, ip=interface("2001:db8::1/64")))
    assert {"192.0.2.0/24", "2001:db8::/64"} <= {route[1] for route in left}   # kept by the others
    left = predicted_is_real(engine, ns, actions.DeleteAddress(ns, dev=a0, ip=interface("2001:db8::2/64")))
    assert "2001:db8::/64" not in {route[1] for route in left}
    assert "2001:db8:50::/48" in {route[1] for route in left}   # via a gateway of that prefix: stays


def test_adding_addresses_brings_the_kernels_routes(engine, netns, veth):
    ns = netns()
    dev = veth(ns, netns())[0]     # down, its peer down too (no carrier, so no fe80::/64 yet)
    actions = engine[1]
    added = [actions.AddAddress(ns, dev=dev, ip=interface(cidr), nodad=cidr.endswith("/128"))
             for cidr in ("192.0.2.1/24", "192.0.2.2/24", "203.0.113.1/32", "198.51.100.0/31", "2001:db8::1/64",
                          "2001:db8:1::1/128")]
    assert predicted_is_real(engine, ns, *added[:3]) == []     # a down link has none
    predicted_is_real(engine, ns, actions.SetLink(ns, name=dev, up=True))
    left = predicted_is_real(engine, ns, *added[3:])
    assert sorted(route[1] for route in left) == [
        "192.0.2.0/24", "198.51.100.0/31", "2001:db8:1::1/128", "2001:db8::/64"]


def test_link_down_and_unregister_as_the_kernel_does(engine, two_links, netns):
    ns, a0, a1 = two_links
    actions = engine[1]
    ip("-6", "route", "add", "2001:db8:60::/48", "nexthop", "via", "2001:db8::fe", "dev", a0,
       "nexthop", "via", "fe80::fe", "dev", a1, "nexthop", "via", "fe80::fd", "dev", a1, netns=ns)
    # Down: every route through a1 goes, but a multipath route with a path elsewhere stays; a route
    # through a0 preferring a1's address stays.
    ip("route", "add", "198.18.8.0/24", "dev", a0, "src", "10.7.0.1", netns=ns)
    left = predicted_is_real(engine, ns, actions.SetLink(ns, name=a1, up=False))
    assert {"198.18.4.0/24", "198.18.8.0/24", "2001:db8:40::/48", "2001:db8:60::/48"} <= {r[1] for r in left}
    assert "198.18.0.0/24" not in {r[1] for r in left}
    # a0 moved away (NETDEV_UNREGISTER here): its addresses go with what goes with them (routes preferring
    # them), then IPv4 routes with a path through it; IPv6 multipath routes lose the siblings through it.
    # With a1 down, the IPv6 multipath routes have no live sibling left either: they go too.
    left = predicted_is_real(engine, ns, actions.MoveLink(ns, name=a0, to_netns=netns()))
    assert [r[:2] for r in left] == [("blackhole", "198.18.6.0/24")]


def test_unregister_keeps_the_live_ipv6_siblings(engine, two_links, netns):
    ns, a0, a1 = two_links
    actions = engine[1]
    left = predicted_is_real(engine, ns, actions.MoveLink(ns, name=a0, to_netns=netns()))
    assert [r[2:4] for r in left if r[1] == "2001:db8:40::/48"] == [("fe80::fe", a1)]
    assert "198.18.4.0/24" not in {r[1] for r in left}
