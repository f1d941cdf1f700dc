# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.facts and linuxnet.ipvlan.info on the host kernel, compared with what `ip -j -d` reports.

Both modules read the same way (module_utils/_gather.py); facts returns the data under
ansible_facts, info under a top-level key of the result. Fact gathering runs facts too
(ansible_facts_modules), and the action group carries module_defaults to every module.
"""

from __future__ import annotations

import json
import time

import pytest

from helpers import cidrs, ip, link, links, netns_exists
from helpers import routes as ip_routes  # the kernel oracle, beside the facts' own routes

FACTS = "linuxnet.ipvlan.facts"
INFO = "linuxnet.ipvlan.info"
READERS = {
    # module: (where its data lands in the result, what the play sees as the host's facts afterwards)
    FACTS: (lambda result: result["ansible_facts"]["linuxnet_ipvlan"], "is defined"),
    INFO: (lambda result: result["linuxnet_ipvlan"], "is not defined"),
}


def read_task(module: str, label: str, **args) -> dict:
    extra = {key: args.pop(key) for key in ("check_mode", "ignore_errors") if key in args}
    return {"name": label, module: args, **extra}


def wait_for_link_local(netns: str, dev: str) -> None:
    """The kernel adds fe80::/64 when the veth gets its carrier; wait until it is there."""
    deadline = time.monotonic() + 20
    while not cidrs(netns, dev, family=6, scope="link"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{dev} in {netns} never got an IPv6 link-local address")
        time.sleep(0.1)


@pytest.mark.parametrize("module", list(READERS))
def test_read_matches_the_kernel(run_tasks, netns, veth, module):
    data_of, facts_test = READERS[module]
    ns_a, ns_b = netns(lo_up=True), netns()
    dev_a, dev_b = veth(ns_a, ns_b, up=True)
    ip("link", "set", "dev", dev_a, "mtu", "1400", netns=ns_a)
    ip("address", "add", "192.0.2.1/24", "dev", dev_a, netns=ns_a)
    ip("address", "add", "2001:db8::1/64", "dev", dev_a, "nodad", netns=ns_a)
    ip("route", "add", "198.51.100.0/24", "via", "192.0.2.254", "metric", "20", "proto", "static", netns=ns_a)
    ip("route", "add", "203.0.113.0/24", "dev", dev_a, "table", "100", "proto", "static", netns=ns_a)
    ip("-6", "route", "add", "default", "via", "2001:db8::fe", "proto", "static", netns=ns_a)
    missing = netns.name()  # listed but never created: the module must not create it
    wait_for_link_local(ns_a, dev_a)  # so that both reads below see the same addresses
    wait_for_link_local(ns_b, dev_b)

    run = run_tasks(
        [
            read_task(module, "Listed", netns=[ns_a, ns_b, missing], include_root=False),
            {"name": "Host facts", "ansible.builtin.assert": {"that": [f"ansible_facts.linuxnet_ipvlan {facts_test}"]}},
            read_task(module, "All, check mode", check_mode=True),
        ]
    )
    listed = run.task("Listed")
    assert not listed.changed and listed["actions"] == []
    if module == INFO:
        assert "ansible_facts" not in listed
    facts = data_of(listed)
    assert set(facts) == {"namespaces"}
    namespaces = facts["namespaces"]
    assert set(namespaces) == {ns_a, ns_b, missing}
    assert namespaces[missing] == {"exists": False, "links": {}, "routes": []}

    # Links: the same set as ip -j -d link, with the same ifindex, kind, state, mtu, mac.
    for ns in (ns_a, ns_b):
        assert namespaces[ns]["exists"] is True
        oracle = {entry["ifname"]: entry for entry in links(ns)}
        assert set(namespaces[ns]["links"]) == set(oracle)
        for name, view in namespaces[ns]["links"].items():
            entry = oracle[name]
            assert view["ifindex"] == entry["ifindex"]
            assert view["kind"] == (entry.get("linkinfo") or {}).get("info_kind")
            assert view["state"] == ("up" if "UP" in entry["flags"] else "down")
            assert view["mtu"] == entry["mtu"]
            assert view["mac"] == entry["address"]
    link_a = namespaces[ns_a]["links"][dev_a]
    assert (link_a["kind"], link_a["state"], link_a["mtu"]) == ("veth", "up", 1400)
    assert link_a["managed"] is False and "ipvlan" not in link_a
    assert {"192.0.2.1/24", "2001:db8::1/64"} <= set(link_a["addresses"])
    assert link_a["addresses"][0] == "192.0.2.1/24"  # IPv4 first
    assert [a for a in link_a["addresses"] if a.startswith("fe80:")] == [
        a for a in link_a["addresses"] if ":" in a and a != "2001:db8::1/64"
    ]
    lo_a = namespaces[ns_a]["links"]["lo"]
    assert (lo_a["kind"], lo_a["state"], lo_a["addresses"]) == (None, "up", ["127.0.0.1/8", "::1/128"])
    assert namespaces[ns_b]["links"]["lo"]["state"] == "down"
    assert namespaces[ns_b]["links"][dev_b]["addresses"] == [
        a for a in namespaces[ns_b]["links"][dev_b]["addresses"] if a.startswith("fe80:")
    ]

    # Routes: every table but the local one; those the kernel made are marked.
    routes = {(r["family"], r["dst"], r["table"]): r for r in namespaces[ns_a]["routes"] if not r["kernel"]}
    assert set(routes) == {("ipv4", "198.51.100.0/24", "main"), ("ipv4", "203.0.113.0/24", 100),
                           ("ipv6", "default", "main")}
    assert routes[("ipv4", "198.51.100.0/24", "main")] == {
        "dst": "198.51.100.0/24", "family": "ipv4", "type": "unicast", "gateway": "192.0.2.254", "dev": dev_a,
        "nexthops": [], "metric": 20, "table": "main", "scope": "universe", "onlink": False, "proto": 4,
        "kernel": False, "prefsrc": None, "tos": 0,
    }
    assert routes[("ipv4", "203.0.113.0/24", 100)]["scope"] == "link"
    assert routes[("ipv4", "203.0.113.0/24", 100)]["gateway"] is None
    assert routes[("ipv6", "default", "main")]["gateway"] == "2001:db8::fe"
    assert routes[("ipv6", "default", "main")]["metric"] == 1024
    for ns, expected in ((ns_a, {("192.0.2.0/24", dev_a), ("2001:db8::/64", dev_a), ("fe80::/64", dev_a)}),
                         (ns_b, {("fe80::/64", dev_b)})):
        kernel = {(r["dst"], r["dev"]) for r in namespaces[ns]["routes"] if r["kernel"]}
        assert kernel == expected == {(e["dst"], e["dev"]) for family in (4, 6)
                                      for e in ip_routes(ns, family=family) if e["protocol"] == "kernel"}
    (connected,) = [r for r in namespaces[ns_a]["routes"] if r["dst"] == "192.0.2.0/24"]
    assert (connected["proto"], connected["scope"], connected["prefsrc"]) == (2, "link", "192.0.2.1")
    assert [r for r in namespaces[ns_b]["routes"] if not r["kernel"]] == []

    # Without netns: every namespace, ours included, and the root one.
    everything = data_of(run.task("All, check mode"))
    assert {ns_a, ns_b} <= set(everything["namespaces"]) and missing not in everything["namespaces"]
    assert everything["namespaces"][ns_a] == namespaces[ns_a]
    assert everything["root"]["exists"] is True and "lo" in everything["root"]["links"]
    assert not netns_exists(missing)


@pytest.mark.parametrize("module", list(READERS))
def test_bad_namespace_name_fails(run_tasks, netns, module):
    ns = netns()
    run = run_tasks(
        [
            read_task(module, "Slash", netns=[ns, "a/b"], ignore_errors=True),
            read_task(module, "Empty", netns=[""], ignore_errors=True),
        ]
    )
    for result in run:
        assert result.failed and result.msg.startswith("netns: "), result
        assert "Traceback" not in json.dumps(dict(result))
    assert "a/b" in run.task("Slash").msg


def test_facts_through_gather_facts(run_tasks, netns, veth):
    """`ansible_facts_modules` makes the play's fact gathering run the facts module, with module_defaults."""
    ns = netns(lo_up=True)
    dev, _peer = veth(ns, None)
    ip("address", "add", "192.0.2.7/24", "dev", dev, netns=ns)
    run = run_tasks(
        [
            {
                "name": "Gathered",
                "ansible.builtin.assert": {
                    "that": [
                        f"ansible_facts.linuxnet_ipvlan.namespaces['{ns}'].links['{dev}'].addresses == ['192.0.2.7/24']",
                        f"ansible_facts.linuxnet_ipvlan.namespaces['{ns}'].links.lo.state == 'up'",
                        "ansible_facts.linuxnet_ipvlan.namespaces | length == 1",
                        "ansible_facts.linuxnet_ipvlan.root is not defined",
                        "ansible_facts.distribution is not defined",  # setup did not run
                    ]
                },
            },
        ],
        play_vars={"ansible_facts_modules": [FACTS]},
        play_keywords={"gather_facts": True, "module_defaults": {FACTS: {"netns": [ns], "include_root": False}}},
    )
    assert not run.task("Gathered").failed


def test_action_group_module_defaults(run_tasks, netns, veth):
    """module_defaults for group/linuxnet.ipvlan.ipvlan set netns once for every module that takes it."""
    ns = netns()
    dev, _peer = veth(ns, None, up=True)
    run = run_tasks(
        [
            {"name": "lo up", "linuxnet.ipvlan.link": {"name": "lo", "state": "up"}},
            {"name": "Address", "linuxnet.ipvlan.address": {"dev": dev, "addresses": ["192.0.2.9/24"]}},
            {"name": "Route", "linuxnet.ipvlan.route": {"dst": "198.51.100.0/24", "gateway": "192.0.2.1", "dev": dev}},
            {"name": "Read", INFO: {"include_root": False}},
        ],
        play_keywords={"module_defaults": {"group/linuxnet.ipvlan.ipvlan": {"netns": ns}}},
    )
    assert all(run.task(name).changed for name in ("lo up", "Address", "Route"))
    assert "UP" in link(ns, "lo")["flags"]
    assert cidrs(ns, dev, family=4) == {"192.0.2.9/24"}
    assert "198.51.100.0/24 via 192.0.2.1" in ip("-4", "route", "show", "dev", dev, netns=ns)
    read = run.task("Read")["linuxnet_ipvlan"]["namespaces"]
    assert list(read) == [ns] and read[ns]["links"][dev]["addresses"][0] == "192.0.2.9/24"
