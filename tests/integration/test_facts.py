# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.facts on the host kernel, compared with what `ip -j -d` reports."""

from __future__ import annotations

import json
import time

from helpers import cidrs, ip, links, netns_exists

MODULE = "linuxnet.ipvlan.facts"


def facts_task(label: str, **args) -> dict:
    extra = {key: args.pop(key) for key in ("check_mode", "ignore_errors") if key in args}
    return {"name": label, MODULE: args, **extra}


def wait_for_link_local(netns: str, dev: str) -> None:
    """The kernel adds fe80::/64 when the veth gets its carrier; wait until it is there."""
    deadline = time.monotonic() + 20
    while not cidrs(netns, dev, family=6, scope="link"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{dev} in {netns} never got an IPv6 link-local address")
        time.sleep(0.1)


def test_facts_match_the_kernel(run_tasks, netns, veth):
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

    run = run_tasks(
        [
            facts_task("Listed", netns=[ns_a, ns_b, missing], include_root=False),
            {
                "name": "Facts reach the host",
                "ansible.builtin.assert": {
                    "that": [
                        f"ansible_facts.linuxnet_ipvlan.namespaces['{ns_a}'].links['{dev_a}'].kind == 'veth'",
                        f"ansible_facts.linuxnet_ipvlan.namespaces['{missing}'].exists == false",
                        "ansible_facts.linuxnet_ipvlan.root is not defined",
                    ]
                },
            },
            facts_task("All, check mode", check_mode=True),
        ]
    )
    listed = run.task("Listed")
    assert not listed.changed and listed["actions"] == []
    facts = listed["ansible_facts"]["linuxnet_ipvlan"]
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

    # Routes: the user routes only (the kernel's connected and local ones are left out).
    routes = {(r["family"], r["dst"], r["table"]): r for r in namespaces[ns_a]["routes"]}
    assert set(routes) == {("ipv4", "198.51.100.0/24", "main"), ("ipv4", "203.0.113.0/24", 100),
                           ("ipv6", "default", "main")}
    assert routes[("ipv4", "198.51.100.0/24", "main")] == {
        "dst": "198.51.100.0/24", "family": "ipv4", "gateway": "192.0.2.254", "dev": dev_a, "metric": 20,
        "table": "main", "scope": "universe", "onlink": False, "proto": 4,
    }
    assert routes[("ipv4", "203.0.113.0/24", 100)]["scope"] == "link"
    assert routes[("ipv4", "203.0.113.0/24", 100)]["gateway"] is None
    assert routes[("ipv6", "default", "main")]["gateway"] == "2001:db8::fe"
    assert routes[("ipv6", "default", "main")]["metric"] == 1024
    assert namespaces[ns_b]["routes"] == []

    # Without netns: every namespace, ours included, and the root one.
    everything = run.task("All, check mode")["ansible_facts"]["linuxnet_ipvlan"]
    assert {ns_a, ns_b} <= set(everything["namespaces"]) and missing not in everything["namespaces"]
    assert everything["namespaces"][ns_a] == namespaces[ns_a]
    assert everything["root"]["exists"] is True and "lo" in everything["root"]["links"]
    assert not netns_exists(missing)


def test_bad_namespace_name_fails(run_tasks, netns):
    ns = netns()
    run = run_tasks(
        [
            facts_task("Slash", netns=[ns, "a/b"], ignore_errors=True),
            facts_task("Empty", netns=[""], ignore_errors=True),
        ]
    )
    for result in run:
        assert result.failed and result.msg.startswith("netns: "), result
        assert "Traceback" not in json.dumps(dict(result))
    assert "a/b" in run.task("Slash").msg
