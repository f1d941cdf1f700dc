# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Regression tests for what the property tests (test_properties.py) found, smallest repro each.

Each test names the class of bug. They run the modules in process (inprocess.py) against the
host kernel, on namespaces of the netns fixture.
"""

from __future__ import annotations

import pytest
import helpers
from helpers import ip, routes
from inprocess import Harness


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


def check_then_real(harness: Harness, module: str, params: dict) -> tuple[dict, dict]:
    check = harness.run(module, params, check=True, diff=True)
    real = harness.run(module, params, diff=True)
    return check, real


def test_prediction_of_a_new_namespace_is_what_the_reader_reads(netns):
    """Predicted state vs read state: a fresh namespace's lo (its MAC and mtu range) as the reader sees it."""
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Namespace  # noqa: PLC0415
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session  # noqa: PLC0415

    name = netns()
    with Session() as session:
        assert session.read(name) == Namespace.fresh(name)


def test_topology_check_mode_returns_what_the_real_run_returns_for_a_new_namespace(harness, netns):
    """Return values: check mode predicted lo's MAC as null where the real run read 00:00:00:00:00:00."""
    params = {"namespaces": [{"name": netns.name()}]}
    check, real = check_then_real(harness, "topology", params)
    assert real["changed"] and real["namespaces"] == check["namespaces"]


@pytest.mark.parametrize("route", [
    {"gateway": "fe80::1", "dev": "lo"},
    {"gateway": "2001:db8::fe", "dev": "lo"},
    {"gateway": "fe80::1", "dev": "lo", "onlink": True},
    {"nexthops": [{"gateway": "2001:db8:1::fe", "dev": "lo"}, {"gateway": "2001:db8:2::fe", "dev": "lo"}]},
])
def test_ipv6_gateway_through_lo_is_refused_before_acting(harness, netns, route):
    """Kernel refusal the planner did not predict: an IPv6 route with a gateway cannot leave through lo."""
    name = netns(lo_up=True)
    ip("address", "add", "2001:db8::1/64", "dev", "lo", "nodad", netns=name)
    check, real = check_then_real(harness, "route", dict(route, netns=name, dst="2001:db8:100::/64"))
    assert check["failed"] and real["failed"] and real["msg"] == check["msg"], (check, real)
    assert real["msg"].startswith("dev:") and "loopback" in real["msg"] and not real["changed"], real
    assert "errno" not in real, real


def test_ipv6_gateway_is_not_reached_through_an_address_on_lo(harness, netns):
    """Kernel refusal the planner did not predict: an address on lo does not make an IPv6 gateway
    reachable (EHOSTUNREACH); check mode says so as what an earlier task may still provide."""
    name = netns(lo_up=True)
    ip("address", "add", "2001:db8::1/64", "dev", "lo", "nodad", netns=name)
    check, real = check_then_real(harness, "route", {"netns": name, "dst": "2001:db8:100::/64",
                                                     "gateway": "2001:db8::fe"})
    assert real["failed"] and real["msg"].startswith("gateway: 2001:db8::fe is not reachable"), real
    assert not real["changed"] and "errno" not in real, real
    assert check["warnings"] == [real["msg"] + " (check mode assumes an earlier task of the play provides it)"]


def test_ipv4_onlink_without_gateway_is_refused_before_acting(harness, netns, veth):
    """Kernel refusal the planner did not predict: IPv4 onlink needs a gateway (IPv6 takes it without)."""
    name = netns()
    dev = veth(name, netns(), up=True)[0]
    check, real = check_then_real(harness, "route", {"netns": name, "dst": "203.0.113.0/24", "dev": dev, "onlink": True})
    assert check["failed"] and real["failed"] and real["msg"] == check["msg"], (check, real)
    assert real["msg"].startswith("onlink:") and "errno" not in real, real
    check, real = check_then_real(harness, "route", {"netns": name, "dst": "2001:db8:100::/64", "dev": dev,
                                                     "onlink": True})
    assert real["changed"] and real["actions"] == check["actions"], (check, real)


def test_ipv6_metric_0_is_the_kernels_1024(harness, netns, veth):
    """Normalisation the kernel applies: an IPv6 route with metric 0 is stored with metric 1024."""
    name = netns()
    dev = veth(name, netns(), up=True)[0]
    params = {"netns": name, "dst": "2001:db8:100::/64", "dev": dev, "metric": 0}
    check, real = check_then_real(harness, "route", params)
    assert real["changed"] and real["routes"] == check["routes"], (check, real)
    assert [r["metric"] for r in real["routes"]] == [1024]
    again = harness.run("route", params)
    assert not again["changed"], again


@pytest.mark.parametrize("scope", ["link", "host"])
def test_deleting_an_ipv4_route_of_link_or_host_scope_deletes_it(harness, netns, scope):
    """Route identity on delete: without its scope the kernel found no route (ESRCH, taken as
    'already gone'): changed=true and the route stayed."""
    name = netns(lo_up=True)
    ip("route", "add", "203.0.113.0/24", "dev", "lo", "scope", scope, "table", "100", netns=name)
    params = {"netns": name, "dst": "203.0.113.0/24", "table": "100", "state": "absent"}
    check, real = check_then_real(harness, "route", params)
    assert real["changed"] and real["actions"] == check["actions"] and real["routes"] == check["routes"] == []
    assert harness.residual() == []
    assert routes(name, table="100") == []


@pytest.mark.parametrize("route, refused", [
    ({"dst": "203.0.113.0/24", "gateway": "192.0.2.1", "onlink": True}, True),
    ({"dst": "203.0.113.0/24", "gateway": "198.51.100.254", "onlink": True}, True),   # lo's prefix is local
    ({"dst": "203.0.113.0/24", "gateway": "192.0.2.1"}, False),                      # IPv4 takes it without onlink
    ({"dst": "2001:db8:100::/64", "gateway": "2001:db8::1"}, True),
    ({"dst": "2001:db8:100::/64", "gateway": "2001:db8::1", "onlink": True}, True),
])
def test_a_local_gateway_is_refused_before_acting(harness, netns, veth, route, refused):
    """Kernel refusal the planner did not predict: a gateway that is a local address ("Nexthop has
    invalid gateway", "Gateway can not be a local address", EINVAL)."""
    name = netns(lo_up=True)
    dev = veth(name, netns(), up=True)[0]
    ip("address", "add", "192.0.2.1/24", "dev", dev, netns=name)
    ip("address", "add", "2001:db8::1/64", "dev", dev, "nodad", netns=name)
    ip("address", "add", "198.51.100.1/24", "dev", "lo", netns=name)
    check, real = check_then_real(harness, "route", dict(route, netns=name, dev=dev))
    if refused:
        assert check["failed"] and real["failed"] and real["msg"] == check["msg"], (check, real)
        assert real["msg"].startswith("gateway:") and "local" in real["msg"] and "errno" not in real, real
    else:
        assert real["changed"] and real["actions"] == check["actions"] and harness.residual() == [], (check, real)


@pytest.mark.parametrize("peer_in_root", [False, True])
def test_deleting_a_namespace_takes_its_veth_peers_elsewhere(harness, netns, veth, peer_in_root):
    """A kernel side effect the planner did not predict: the kernel tears a deleted namespace down in
    the background and takes the peers of its veth links with it. Check mode showed the peer as
    staying, and what came after met it or not depending on timing."""
    doomed = netns()
    other = None if peer_in_root else netns()
    peer = veth(doomed, other, up=True)[1]
    params = {"namespaces": [{"name": doomed, "state": "absent"}]}
    if other:
        params["namespaces"].append({"name": other})
    check, real = check_then_real(harness, "topology", params)
    where = f"namespace {other}" if other else "the root namespace"
    assert real["actions"] == check["actions"], (check, real)
    assert f"delete namespace {doomed}, and with it veth {peer} in {where}" in real["actions"], real
    if other:
        assert peer not in real["namespaces"][other]["links"], real
        assert real["namespaces"] == check["namespaces"]
    assert helpers.link(other, peer) is None   # gone when the task returns, not some time later


def test_a_gateway_reached_through_a_link_that_went_down_is_refused_before_acting(harness, netns):
    """Kernel refusal the planner did not predict: an IPv4 route of scope host through a link that
    went down stays; a gateway it covers is found through that link and the kernel says ENETDOWN."""
    name = netns(lo_up=True)
    ip("route", "add", "default", "dev", "lo", "scope", "host", "table", "default", netns=name)
    ip("link", "set", "dev", "lo", "down", netns=name)
    check, real = check_then_real(harness, "route", {"netns": name, "dst": "198.51.100.0/24",
                                                     "gateway": "203.0.113.254"})
    assert real["failed"] and not real["changed"] and "errno" not in real, real
    assert real["msg"].startswith("gateway: 203.0.113.254 is reached through lo") and "down" in real["msg"], real
    assert check["warnings"] == [real["msg"] + " (check mode assumes an earlier task of the play provides it)"]


def test_a_link_going_down_leaves_a_route_through_another_down_link(harness, netns, veth):
    """Predicted state vs read state: deleting a namespace took the veth peer's last IPv4 address,
    and the prediction then dropped a scope host route through lo (down), which the kernel keeps."""
    doomed, kept = netns(), netns()
    peer = veth(doomed, kept, up=True)[1]
    ip("address", "add", "192.0.2.1/25", "dev", peer, netns=kept)
    ip("route", "add", "198.51.100.0/24", "dev", "lo", "scope", "host", "table", "default", netns=kept)
    params = {"namespaces": [{"name": kept, "lo": False, "routes": [
        {"dst": "198.51.100.0/24", "dev": "lo", "scope": "host", "table": "default"}]},
        {"name": doomed, "state": "absent"}]}
    check, real = check_then_real(harness, "topology", params)
    assert real["changed"] and not real["failed"] and real["actions"] == check["actions"], (check, real)
    assert real["namespaces"] == check["namespaces"]


@pytest.mark.parametrize("family", [4, 6])
def test_a_gateway_is_reached_only_through_the_tables_the_kernel_looks_in(harness, netns, veth, family):
    """The device the kernel picks: a gateway covered only by a route in another table (100) is not
    reachable for a main-table route (the kernel looks in the route's own table, then through the
    policy rules: local, main, default); it is for a route of table 100 itself."""
    name = netns()
    dev = veth(name, name, up=True)[0]
    covering, gateway = ("198.51.100.0/24", "198.51.100.254") if family == 4 else ("2001:db8::/64", "2001:db8::fe")
    ip(f"-{family}", "route", "add", covering, "dev", dev, "table", "100", netns=name)
    main = {"netns": name, "dst": "default", "gateway": gateway}
    check, real = check_then_real(harness, "route", main)
    assert real["failed"] and not real["changed"] and "errno" not in real, real
    assert real["msg"].startswith(f"gateway: {gateway} is not reachable"), real
    assert not [r for r in routes(name, family) if r.get("dst") == "default"]
    check, real = check_then_real(harness, "route", dict(main, table="100"))
    assert real["changed"] and not real["failed"] and real["actions"] == check["actions"], (check, real)


@pytest.mark.parametrize("multipath", [False, True])
def test_an_ipv4_onlink_gateway_needs_the_local_table_the_first_ipv4_address_makes(harness, netns, veth, multipath):
    """Kernel refusal the planner did not predict (EINVAL, "Nexthop has invalid gateway"): an IPv4
    onlink gateway in a namespace that never had an IPv4 address, whose local table does not exist
    yet. The table is history: once an address came and went, the same route is taken."""
    name = netns()
    dev = veth(name, name, up=True)[0]
    hop = {"gateway": "192.0.2.254", "dev": dev, "onlink": True}
    params = dict({"nexthops": [hop]} if multipath else hop, netns=name, dst="default")
    check, real = check_then_real(harness, "route", params)
    assert real["failed"] and not real["changed"] and "errno" not in real, real
    assert real["msg"].startswith("gateway: 192.0.2.254 is not reachable") and "onlink" in real["msg"], real
    ip("address", "add", "192.0.2.1/24", "dev", dev, netns=name)
    ip("address", "del", "192.0.2.1/24", "dev", dev, netns=name)
    check, real = check_then_real(harness, "route", params)
    assert real["changed"] and not real["failed"] and real["actions"] == check["actions"], (check, real)


ASSUMED = " (check mode assumes an earlier task of the play provides it)"


def kernel_refuses(name: str, *route: str) -> str:
    """The premise, asked of the kernel with ip: it refuses ROUTE (stderr), and nothing is added."""
    proc = helpers.run(["ip", "-n", name, "route", "add", *route], check=False)
    assert proc.returncode != 0, f"the kernel took {route}"
    return proc.stderr


@pytest.mark.parametrize("second", [
    {"weight": 2},
    {"onlink": True},
    {"gateway": "fe80::fe"},   # a link-local gateway too (its dev is the first hop's)
], ids=["weight", "onlink", "link-local"])
def test_an_ipv6_multipath_route_naming_one_path_twice_is_refused_before_acting(harness, netns, veth, second):
    """Kernel refusal the planner did not predict (EEXIST): an IPv6 multipath route keeps each path as
    a route of its own, and one gateway through one device twice collides, whatever weight or onlink."""
    name = netns()
    dev = veth(name, netns(), up=True)[0]
    ip("address", "add", "2001:db8:1::1/64", "dev", dev, "nodad", netns=name)
    first = {"gateway": second.get("gateway", "2001:db8:1::fe"), "dev": dev}
    assert "File exists" in kernel_refuses(name, "2001:db8:100::/64", "nexthop", "via", first["gateway"], "dev", dev,
                                           "nexthop", "via", first["gateway"], "dev", dev)
    params = {"netns": name, "dst": "2001:db8:100::/64", "nexthops": [first, dict(first, **second)]}
    check, real = check_then_real(harness, "route", params)
    assert check["failed"] and real["failed"] and real["msg"] == check["msg"], (check, real)
    helpers.assert_failed_cleanly(real, "nexthops[1]: gateway", "is the path of nexthops[0] again", "EEXIST")
    assert "errno" not in real, real
    assert not [r for r in routes(name, 6) if r.get("dst") == "2001:db8:100::/64"]


def test_an_ipv6_path_twice_through_the_device_the_kernel_picks_is_refused_before_acting(harness, netns, veth):
    """The same class, where only the plan can tell: one nexthop without dev reaches its gateway
    through the device another nexthop names."""
    name = netns()
    dev = veth(name, netns(), up=True)[0]
    ip("address", "add", "2001:db8:1::1/64", "dev", dev, "nodad", netns=name)
    assert "File exists" in kernel_refuses(name, "2001:db8:100::/64", "nexthop", "via", "2001:db8:1::fe",
                                           "nexthop", "via", "2001:db8:1::fe", "dev", dev)
    params = {"netns": name, "dst": "2001:db8:100::/64",
              "nexthops": [{"gateway": "2001:db8:1::fe"}, {"gateway": "2001:db8:1::fe", "dev": dev, "weight": 2}]}
    check, real = check_then_real(harness, "route", params)
    helpers.assert_failed_cleanly(real, f"nexthops: nexthops[1] reaches gateway 2001:db8:1::fe through {dev}",
                                  "EEXIST")
    assert "errno" not in real and check["warnings"] == [real["msg"] + ASSUMED], (check, real)


def test_ipv4_keeps_a_multipath_route_naming_one_path_twice(harness, netns, veth):
    """Per family, as the kernel: IPv4 takes a path twice (two shares of the traffic); the route reads
    back as declared, a second run changes nothing, and state=absent removes it."""
    name = netns()
    dev = veth(name, netns(), up=True)[0]
    ip("address", "add", "192.0.2.1/24", "dev", dev, netns=name)
    hop = {"gateway": "192.0.2.254", "dev": dev}
    params = {"netns": name, "dst": "203.0.113.0/24", "nexthops": [hop, hop]}
    check, real = check_then_real(harness, "route", params)
    assert real["changed"] and not real["failed"] and real["actions"] == check["actions"], (check, real)
    assert real["routes"] == check["routes"] and harness.residual() == [], (check, real)
    [route] = [r for r in routes(name) if r.get("dst") == "203.0.113.0/24"]
    assert [(h["gateway"], h["dev"]) for h in route["nexthops"]] == [("192.0.2.254", dev)] * 2
    again = harness.run("route", params)
    assert not again["changed"] and not again["failed"], again
    check, real = check_then_real(harness, "route", dict(params, state="absent"))
    assert real["changed"] and real["actions"] == check["actions"] and harness.residual() == [], (check, real)
    assert not [r for r in routes(name) if r.get("dst") == "203.0.113.0/24"]


@pytest.mark.parametrize("shape, refused", [
    ("another-dev", True),
    ("another-dev-table-100", True),   # looked up in main, whatever the route's table
    ("another-dev-in-a-nexthop", True),
    ("its-own-dev", False),
    ("only-a-default-route-covers-it", False),
])
def test_an_ipv6_onlink_gateway_covered_through_another_device_is_refused_before_acting(
        harness, netns, veth, shape, refused):
    """Kernel refusal the planner did not predict (EINVAL, "Nexthop has invalid gateway or device
    mismatch", ip6_route_check_nh_onlink): the kernel looks an IPv6 onlink gateway up in the main
    table and refuses it when a route of another device covers it (a default route does not count)."""
    name = netns()
    covered, other = veth(name, name, up=True)
    if shape == "only-a-default-route-covers-it":
        ip("-6", "route", "add", "default", "dev", covered, netns=name)
    else:
        ip("address", "add", "2001:db8:1::1/64", "dev", covered, "nodad", netns=name)
    dev = covered if shape == "its-own-dev" else other
    hop = {"gateway": "2001:db8:1::fe", "dev": dev, "onlink": True}
    params = dict(hop, netns=name, dst="2001:db8:100::/64")
    if shape == "another-dev-table-100":
        params["table"] = "100"
    elif shape == "another-dev-in-a-nexthop":
        params = {"netns": name, "dst": "2001:db8:100::/64", "nexthops": [hop, {"gateway": "fe80::1", "dev": dev}]}
    check, real = check_then_real(harness, "route", params)
    if not refused:
        assert real["changed"] and not real["failed"] and real["actions"] == check["actions"], (check, real)
        assert harness.residual() == []
        return
    assert "device mismatch" in kernel_refuses(name, "2001:db8:100::/64", "via", "2001:db8:1::fe", "dev", dev,
                                               "onlink")
    helpers.assert_failed_cleanly(real, "gateway: 2001:db8:1::fe is covered", f"through {covered}, not {dev}",
                                  "device mismatch")
    assert "errno" not in real and check["warnings"] == [real["msg"] + ASSUMED], (check, real)
    assert not [r for r in routes(name, 6, "all") if r.get("dst") == "2001:db8:100::/64"]
