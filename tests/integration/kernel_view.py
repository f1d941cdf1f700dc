# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel as iproute2 shows it, for the property tests: read, settle, compare.

``read(namespaces, root_prefix)`` takes one ``ip -batch`` per namespace (links with their
addresses, IPv4 and IPv6 routes of every table) and the root namespace's links whose name starts
with root_prefix. From such a read:

* ``snapshot()`` is what must not change when a task changes nothing (check mode, a refusal),
  without what the kernel changes by itself (operstate, DAD and linkdown flags, lifetimes, the
  local table);
* ``facts()`` is what linuxnet.ipvlan.facts must return, derived from ip's JSON only;
* ``settle()`` waits until the kernel has finished reacting to a change: link-local addresses and
  carrier come from the link watcher a moment after a link changes, and the veth peers of a
  deleted namespace go when the kernel has torn it down.

Independent of the collection's code: nothing here imports it.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import time
from typing import Any

# The alias topology puts on lo of the namespaces it manages (and on its slaves): the owner follows
# (0.1.0 wrote the marker alone: owner default).
MARKER = "managed-by=linuxnet.ipvlan"
OWNER_PREFIX = MARKER + " owner="
PROTOCOLS = {"redirect": 1, "kernel": 2, "boot": 3, "static": 4, "ra": 9}
SCOPES = {"global": "universe"}  # ip's name for scope 0; link, host, site and nowhere match
KERNEL_PROTOCOLS = ("kernel", "ra")
# flags the kernel sets and clears by itself as carrier and DAD come and go
VOLATILE_ROUTE_FLAGS = {"linkdown", "dead"}
BATCH = "address show\nroute show table all root 0.0.0.0/0\nroute show table all root ::/0\n"


def _ip(argv: list[str], stdin: str | None = None) -> str:
    proc = subprocess.run(["ip", "-j", "-d", *argv], input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)
    if proc.returncode != 0:
        raise AssertionError(f"ip {argv} failed: {proc.stderr}")
    return proc.stdout


def _documents(text: str) -> list[Any]:
    decoder, found, pos = json.JSONDecoder(), [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        value, pos = decoder.raw_decode(text, pos)
        found.append(value)
    return found


def netns_list() -> list[str]:
    """The named namespaces: what ``ip netns list`` lists, without its nsid lookups."""
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def read(namespaces: list[str], root_prefix: str) -> dict:
    """{namespace: {"links": [...], "routes4": [...], "routes6": [...]} or None, None: root links}."""
    existing = set(netns_list())
    world: dict = {}
    for name in namespaces:
        if name not in existing:
            world[name] = None
            continue
        links, routes4, routes6 = _documents(_ip(["-n", name, "-batch", "-"], BATCH))
        world[name] = {"links": links, "routes4": routes4, "routes6": routes6}
    root = json.loads(_ip(["address", "show"]) or "[]")
    world[None] = {"links": [link for link in root if link["ifname"].startswith(root_prefix)]}
    return world


# --------------------------------------------------------------------------- snapshot


def _route_key(entry: dict) -> str:
    entry = dict(entry)
    entry.pop("expires", None)
    entry["flags"] = sorted(set(entry.get("flags", [])) - VOLATILE_ROUTE_FLAGS)
    if "nexthops" in entry:
        entry["nexthops"] = [dict(hop, flags=sorted(set(hop.get("flags", [])) - VOLATILE_ROUTE_FLAGS))
                             for hop in entry["nexthops"]]
    return json.dumps(entry, sort_keys=True)


def snapshot(world: dict) -> dict:
    """What a task that changes nothing must leave as it is."""
    view = {}
    for name, ns in world.items():
        if ns is None:
            view[name] = "absent"
            continue
        links = {link["ifname"]: (link["ifindex"], _kind(link), _up(link), link["mtu"], link.get("address"),
                                  link.get("ifalias"), link.get("link"), link.get("link_netnsid"))
                 for link in ns["links"]}
        addresses = sorted((link["ifname"], info["family"], info["local"], info["prefixlen"])
                           for link in ns["links"] for info in link.get("addr_info", []))
        # The local table follows the addresses, late for IPv6 (a local route once DAD is done).
        routes = sorted(_route_key(r) for r in ns.get("routes4", []) + ns.get("routes6", [])
                        if r.get("table") != "local")
        view[name] = {"links": links, "addresses": addresses, "routes": routes}
    return view


def _kind(link: dict) -> str | None:
    return (link.get("linkinfo") or {}).get("info_kind")


def _up(link: dict) -> bool:
    return "UP" in link.get("flags", [])


# --------------------------------------------------------------------------- settle


def _unsettled(link: dict) -> bool:
    """The link watcher has not yet caught up with this link's admin state or carrier."""
    state, flags = link.get("operstate"), set(link.get("flags", []))
    if "UP" not in flags:
        return state not in ("DOWN",)
    if "LOWER_UP" in flags:
        return state not in ("UP", "UNKNOWN")
    return state not in ("DOWN", "LOWERLAYERDOWN")


def _orphans(world: dict) -> list[str]:
    """veth ends whose peer is in no namespace of the read: it went with a namespace that the
    kernel is still tearing down (asynchronously), and the end will follow."""
    links = [(name, link) for name, ns in world.items() if ns for link in ns["links"]]
    by_index: dict = {}
    for _name, link in links:
        by_index.setdefault(link["ifindex"], []).append(link)
    return [f"{name or '(root)'}/{link['ifname']}" for name, link in links
            if _kind(link) == "veth" and "link" not in link  # "link": the peer's name, in the same namespace
            and not any(peer.get("link_index") == link["ifindex"] for peer in by_index.get(link.get("link_index"), []))]


def settle(namespaces: list[str], root_prefix: str, patience: float = 10.0) -> dict:
    """Read until the kernel is done (operstate, namespace teardown) and two reads agree; return the last."""
    deadline = time.monotonic() + patience
    last = None
    while True:
        world = read(namespaces, root_prefix)
        pending = [f"{name or '(root)'}/{link['ifname']}" for name, ns in world.items() if ns
                   for link in ns["links"] if _unsettled(link)] + _orphans(world)
        current = snapshot(world)
        if not pending and current == last:
            return world
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel kept changing for {patience} s (links {pending})")
        last = current
        time.sleep(0.005)


# --------------------------------------------------------------------------- facts


def _cidr(info: dict) -> str:
    return f"{info['local']}/{info['prefixlen']}"


def _dst(entry: dict, family: int) -> str:
    dst = entry["dst"]
    if dst == "default" or "/" in dst:
        return dst
    return f"{dst}/{32 if family == 4 else 128}"


def _table(value: str) -> Any:
    return int(value) if value.isdigit() else value


def shown_in_facts(entry: dict) -> bool:
    """The routes facts report: every table but local (the kernel's), of every type and protocol."""
    return entry.get("table") != "local"


def route_facts(entry: dict, family: int) -> dict:
    protocol = entry.get("protocol", "boot")
    return {
        "dst": _dst(entry, family),
        "family": f"ipv{family}",
        "type": entry.get("type", "unicast"),
        "gateway": entry.get("gateway"),
        "dev": entry.get("dev"),
        "nexthops": [{"gateway": hop.get("gateway"), "dev": hop.get("dev"), "weight": hop.get("weight", 1),
                      "onlink": "onlink" in hop.get("flags", [])} for hop in entry.get("nexthops", [])],
        "metric": entry.get("metric", 0),
        "table": _table(entry.get("table", "main")),
        "scope": SCOPES.get(entry.get("scope", "global"), entry.get("scope")),
        "onlink": "onlink" in entry.get("flags", []),
        "proto": PROTOCOLS[protocol] if protocol in PROTOCOLS else int(protocol),
        "kernel": protocol in KERNEL_PROTOCOLS,
        "prefsrc": entry.get("prefsrc"),
        "tos": int(entry.get("tos", "0"), 0) if isinstance(entry.get("tos"), str) else entry.get("tos", 0),
    }


def _owner(alias: str | None) -> str | None:
    if alias == MARKER:
        return "default"
    if alias and alias.startswith(OWNER_PREFIX) and " " not in alias[len(OWNER_PREFIX):]:
        return alias[len(OWNER_PREFIX):] or None
    return None


def link_facts(link: dict) -> dict:
    alias = link.get("ifalias")
    return {
        "ifindex": link["ifindex"],
        "kind": _kind(link),
        "state": "up" if _up(link) else "down",
        "mtu": link["mtu"],
        "mac": link.get("address"),
        "alias": alias,
        "managed": _owner(alias) is not None,
        "owner": _owner(alias),
        "addresses": sorted((_cidr(info) for info in link.get("addr_info", [])), key=lambda t: (":" in t, t)),
    }


def route_order(route: dict) -> str:
    return json.dumps(route, sort_keys=True)


def facts(world: dict) -> dict:
    """{namespace: what facts returns for it}; None: the root namespace's links of this read."""
    view: dict = {}
    for name, ns in world.items():
        if ns is None:
            view[name] = {"exists": False, "links": {}, "routes": []}
            continue
        routes = [route_facts(entry, family) for family, key in ((4, "routes4"), (6, "routes6"))
                  for entry in ns.get(key, []) if shown_in_facts(entry)]
        view[name] = {"exists": True, "links": {link["ifname"]: link_facts(link) for link in ns["links"]},
                      "routes": sorted(routes, key=route_order)}
    return view


def changes(before: dict, after: dict) -> list[str]:
    """What differs between two snapshots, one line per item: for assertion messages."""
    lines = []
    for name in sorted(set(before) | set(after), key=str):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if not isinstance(old, dict) or not isinstance(new, dict):
            lines.append(f"{name}: {old!r} -> {new!r}")
            continue
        for part in ("links", "addresses", "routes"):
            old_items = set(_items(old[part])) if part in old else set()
            new_items = set(_items(new[part])) if part in new else set()
            lines += [f"{name or '(root)'} {part} - {item}" for item in sorted(old_items - new_items, key=str)]
            lines += [f"{name or '(root)'} {part} + {item}" for item in sorted(new_items - old_items, key=str)]
    return lines


def _items(part):
    return [f"{key}: {value}" for key, value in part.items()] if isinstance(part, dict) else [str(i) for i in part]


def diff_text(expected: Any, got: Any) -> str:
    """A unified diff of two JSON-like values: for assertion messages."""
    lines = difflib.unified_diff(json.dumps(expected, indent=1, sort_keys=True).splitlines(),
                                 json.dumps(got, indent=1, sort_keys=True).splitlines(),
                                 "expected", "got", n=2, lineterm="")
    return "\n".join(lines)
