# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis strategies for the property tests: a start state and the tasks to run on it.

A start state is a list of ``ip`` argv lists (the independent path: iproute2, not our engine):
namespaces, veth pairs between them and the root namespace, links up or down, mtu, IPv4
addresses with secondaries, IPv6 addresses (nodad), routes of every scope, type, table, metric
and protocol, multipath routes; the kernel adds its own (connected prefixes, link-local).
Commands that build objects must succeed; the kernel may refuse an address or a route (a gateway
it cannot reach, a down link): what it accepts is the start state.

The tasks are module calls (netns, link, address, route, topology without ipvlans) on those
objects: mostly on things that exist, sometimes on things that do not, removals, purge.

Names are fixed per position (``<session prefix>n0`` ... for namespaces, ``...v0a``/``...v0b``
for a veth pair), so an example is the same on every run and shrinks to a readable repro. Only
documentation prefixes are used, and addresses and routes only inside the test's namespaces.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from hypothesis import strategies as st

ADDRESSES4 = ["192.0.2.1/24", "192.0.2.2/24", "192.0.2.1/25", "192.0.2.130/25", "198.51.100.1/24",
              "198.51.100.2/24", "203.0.113.1/32"]
ADDRESSES6 = ["2001:db8::1/64", "2001:db8::2/64", "2001:db8::1/80", "2001:db8:1::1/64"]
DESTINATIONS = {4: ["default", "203.0.113.0/24", "203.0.113.128/25", "198.51.100.0/24", "192.0.2.200/32"],
                6: ["default", "2001:db8:100::/64", "2001:db8:200::/56", "2001:db8::/64"]}
GATEWAYS = {4: ["192.0.2.254", "192.0.2.2", "198.51.100.254", "203.0.113.254"],
            6: ["2001:db8::fe", "2001:db8:1::fe", "fe80::1"]}
METRICS = [None, 0, 10, 1024]
TABLES = [None, "main", "100", "default"]
ROUTE_TYPES = ["blackhole", "unreachable", "prohibit", "throw"]
MTUS = [None, 1280, 1400, 1500, 9000]
MAX_NAMESPACES = 4   # the last one is never made by the start state: tasks may create it
MAX_VETHS = 3


def namespace_names(prefix: str) -> list[str]:
    return [f"{prefix}n{index}" for index in range(MAX_NAMESPACES)]


def veth_names(prefix: str, index: int) -> tuple[str, str]:
    return f"{prefix}v{index}a", f"{prefix}v{index}b"


@dataclass
class Start:
    """The start state: ip commands in order, and what they made (for the tasks to aim at)."""
    namespaces: list = field(default_factory=list)        # names made
    links: dict = field(default_factory=dict)             # netns (None: root) -> [link names]
    required: list = field(default_factory=list)          # argv lists that must succeed
    optional: list = field(default_factory=list)          # argv lists the kernel may refuse

    def __repr__(self) -> str:
        lines = ["ip " + shlex.join(argv) for argv in self.required]
        lines += ["ip " + shlex.join(argv) + "   # may be refused" for argv in self.optional]
        return "Start(\n    " + "\n    ".join(lines) + "\n)"

    def _repr_pretty_(self, printer, cycle):  # hypothesis prints failing examples with this
        printer.text(repr(self))


@dataclass(frozen=True)
class Task:
    module: str
    params: dict

    def __repr__(self) -> str:
        return f"Task({self.module} {json.dumps(self.params, sort_keys=True)})"

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))


@dataclass
class Scenario:
    prefix: str
    start: Start
    tasks: list

    @property
    def namespaces(self) -> list[str]:
        return namespace_names(self.prefix)

    def __repr__(self) -> str:
        return f"Scenario({self.start!r}, tasks={self.tasks!r})"

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))


def _in(netns: str | None) -> list[str]:
    return ["-n", netns] if netns else []


# --------------------------------------------------------------------------- start states


def _quoted(word: str) -> str:
    return f'"{word}"' if " " in word else word


def batches(commands: list[list[str]]) -> list[tuple[list[str], str]]:
    """The commands as ``ip -batch`` input per namespace: (["-n", NS] or [], lines), root first.

    Within a namespace the order is kept; the root's commands make the namespaces and links the
    others then configure.
    """
    grouped: dict = {}
    for argv in commands:
        netns, rest = (argv[1], argv[2:]) if argv[0] == "-n" else (None, argv)
        grouped.setdefault(netns, []).append(" ".join(_quoted(word) for word in rest) + "\n")
    return [(["-n", netns] if netns else [], "".join(lines))
            for netns, lines in sorted(grouped.items(), key=lambda item: item[0] is not None)]


@st.composite
def starts(draw, prefix: str) -> Start:
    start = Start()
    names = namespace_names(prefix)
    count = draw(st.integers(1, MAX_NAMESPACES - 1))
    start.namespaces = names[:count]
    start.links = {None: []}
    for name in start.namespaces:
        start.required.append(["netns", "add", name])
        start.links[name] = ["lo"]
        if draw(st.booleans()):
            start.required.append(["-n", name, "link", "set", "dev", "lo", "up"])
        marker = draw(st.sampled_from([None, None, "managed-by=linuxnet.ipvlan",
                                       "managed-by=linuxnet.ipvlan owner=default",
                                       "managed-by=linuxnet.ipvlan owner=tenant-a"]))
        if marker:  # as topology (0.1.0, or an owner) left it: purge's candidates
            start.required.append(["-n", name, "link", "set", "dev", "lo", "alias", marker])
    for index in range(draw(st.integers(0, MAX_VETHS))):
        name_a, name_b = veth_names(prefix, index)
        netns_a = draw(st.sampled_from(start.namespaces))
        netns_b = draw(st.sampled_from(start.namespaces + [None]))
        start.required.append(["link", "add", "name", name_a, "netns", netns_a, "type", "veth", "peer", "name",
                               name_b] + (["netns", netns_b] if netns_b else []))
        for netns, name in ((netns_a, name_a), (netns_b, name_b)):
            start.links[netns].append(name)
            mtu = draw(st.sampled_from(MTUS))
            if mtu:
                start.required.append(_in(netns) + ["link", "set", "dev", name, "mtu", str(mtu)])
            if draw(st.integers(0, 3)):  # up three times in four
                start.required.append(_in(netns) + ["link", "set", "dev", name, "up"])
    for name in start.namespaces:
        devs = start.links[name]
        for _repeat in range(draw(st.integers(0, 4))):
            cidr = draw(st.sampled_from(ADDRESSES4 + ADDRESSES6))
            argv = ["-n", name, "address", "add", cidr, "dev", draw(st.sampled_from(devs))]
            start.optional.append(argv + (["nodad"] if ":" in cidr else []))
    for name in start.namespaces:
        for _repeat in range(draw(st.integers(0, 4))):
            start.optional.append(["-n", name] + draw(route_commands(start.links[name])))
    if draw(st.booleans()):  # a link going down last flushes its routes and IPv6 addresses
        netns = draw(st.sampled_from(list(start.links)))
        if start.links[netns]:
            start.optional.append(_in(netns) + ["link", "set", "dev", draw(st.sampled_from(start.links[netns])),
                                                "down"])
    return start


@st.composite
def route_commands(draw, devs: list[str]) -> list[str]:
    family = draw(st.sampled_from([4, 6]))
    dst = draw(st.sampled_from(DESTINATIONS[family]))
    if dst == "default" and family == 6:
        dst = "::/0"  # ip takes the family from the prefix (a batch line cannot say -6)
    shape = draw(st.sampled_from(["dev", "via", "via", "type", "multipath"]))
    argv = ["route", "add"]
    if shape == "type":
        argv += [draw(st.sampled_from(ROUTE_TYPES)), dst]
    elif shape == "dev":
        argv += [dst, "dev", draw(st.sampled_from(devs))]
        if family == 4:
            argv += draw(st.sampled_from([[], ["scope", "link"], ["scope", "host"], ["scope", "global"]]))
    elif shape == "via":
        argv += [dst, "via", draw(st.sampled_from(GATEWAYS[family]))]
        if draw(st.booleans()) or argv[-1].startswith("fe80"):
            argv += ["dev", draw(st.sampled_from(devs))]
            if draw(st.integers(0, 3)) == 0:
                argv.append("onlink")
    else:
        argv.append(dst)
        for _repeat in range(2):
            argv += ["nexthop", "via", draw(st.sampled_from(GATEWAYS[family])), "dev", draw(st.sampled_from(devs))]
            argv += draw(st.sampled_from([[], [], ["weight", "2"], ["onlink"]]))
    table = draw(st.sampled_from(TABLES))
    if table:
        argv += ["table", table]
    metric = draw(st.sampled_from(METRICS))
    if metric is not None:
        argv += ["metric", str(metric)]
    argv += draw(st.sampled_from([[], ["proto", "static"]]))  # ip's default is proto boot
    return argv


# --------------------------------------------------------------------------- tasks


def _netns_choice(draw, start: Start, names: list[str]) -> str:
    """A namespace of the start state, now and then one that does not exist."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(names))
    return draw(st.sampled_from(start.namespaces))


@st.composite
def route_params(draw, devs: list[str]) -> dict:
    """route module parameters (also a topology route): through a gateway, a device, several next
    hops, or of a reject type."""
    family = draw(st.sampled_from([4, 6]))
    params = {"dst": draw(st.sampled_from(DESTINATIONS[family]))}
    shape = draw(st.sampled_from(["gateway", "gateway", "dev", "type", "nexthops"] if devs else ["gateway", "type"]))
    if shape == "type":
        params["type"] = draw(st.sampled_from(ROUTE_TYPES))
    elif shape == "nexthops":
        params["nexthops"] = draw(st.lists(nexthop_params(family, devs), min_size=1, max_size=2))
    else:
        if shape == "gateway":  # a link-local one needs a device
            params["gateway"] = draw(st.sampled_from([g for g in GATEWAYS[family] if devs or "fe80" not in g]))
        if shape == "dev" or params["gateway"].startswith("fe80") or (devs and draw(st.booleans())):
            params["dev"] = draw(st.sampled_from(devs))
        if "dev" in params and draw(st.integers(0, 4)) == 0:
            params["onlink"] = True
        if draw(st.integers(0, 5)) == 0:
            params["type"] = "unicast"
    if params["dst"] == "default" and "gateway" not in params and "nexthops" not in params:
        params["family"] = f"ipv{family}"
    for key, choices in (("metric", METRICS), ("table", TABLES)):
        value = draw(st.sampled_from(choices))
        if value is not None:
            params[key] = value
    if draw(st.integers(0, 3)) == 0:
        params["scope"] = draw(st.sampled_from(["universe", "link", "host"]))
    return params


@st.composite
def nexthop_params(draw, family: int, devs: list[str]) -> dict:
    hop = {"gateway": draw(st.sampled_from(GATEWAYS[family])), "dev": draw(st.sampled_from(devs))}
    if draw(st.integers(0, 2)) == 0:
        hop["weight"] = draw(st.integers(1, 3))
    if draw(st.integers(0, 4)) == 0:
        hop["onlink"] = True
    return hop


@st.composite
def netns_tasks(draw, start: Start, names: list[str]) -> Task:
    state = draw(st.sampled_from(["present", "present", "absent"]))
    return Task("netns", {"name": draw(st.sampled_from(names)), "state": state})


@st.composite
def link_tasks(draw, start: Start, names: list[str]) -> Task:
    netns = draw(st.sampled_from([n for n in start.links if start.links[n]]))
    params = {"name": draw(st.sampled_from(start.links[netns]))}
    if netns:
        params["netns"] = netns
    state = draw(st.sampled_from([None, "up", "down"]))
    if state:
        params["state"] = state
    mtu = draw(st.sampled_from(MTUS + [1000, 65535, 65536]))
    if mtu:
        params["mtu"] = mtu
    return Task("link", params)


@st.composite
def address_tasks(draw, start: Start, names: list[str]) -> Task:
    netns = _netns_choice(draw, start, names)
    params = {"netns": netns, "dev": draw(st.sampled_from(start.links.get(netns, ["lo"]))),
              "addresses": draw(st.lists(st.sampled_from(ADDRESSES4 + ADDRESSES6), max_size=3, unique=True))}
    for key, strategy in (("state", st.sampled_from(["present", "present", "absent"])),
                          ("purge", st.booleans()), ("nodad", st.booleans())):
        value = draw(strategy)
        if value:
            params[key] = value
    return Task("address", params)


@st.composite
def route_tasks(draw, start: Start, names: list[str]) -> Task:
    netns = _netns_choice(draw, start, names)
    params = dict(draw(route_params(start.links.get(netns, ["lo"]))), netns=netns)
    if draw(st.integers(0, 2)) == 0:
        params["state"] = "absent"
    return Task("route", params)


@st.composite
def topology_tasks(draw, start: Start, names: list[str]) -> Task:
    declared = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    entries = []
    for name in declared:
        entry = {"name": name}
        if draw(st.integers(0, 4)) == 0:
            entry["state"] = "absent"
        if draw(st.integers(0, 3)) == 0:
            entry["lo"] = False
        devs = [d for d in start.links.get(name, []) if d != "lo"]
        routes = draw(st.lists(route_params(devs), max_size=2))
        if routes:
            entry["routes"] = routes
        entries.append(entry)
    params = {"namespaces": entries}
    if draw(st.booleans()):
        params["purge"] = True
    owner = draw(st.sampled_from([None, None, "default", "tenant-a"]))
    if owner:
        params["owner"] = owner
    return Task("topology", params)


TASKS = {"netns": netns_tasks, "link": link_tasks, "address": address_tasks, "route": route_tasks,
         "topology": topology_tasks}


@st.composite
def scenarios(draw, prefix: str, max_tasks: int = 3) -> Scenario:
    start = draw(starts(prefix))
    names = namespace_names(prefix)
    tasks = []
    for _repeat in range(draw(st.integers(1, max_tasks))):
        kind = draw(st.sampled_from(sorted(TASKS)))
        tasks.append(draw(TASKS[kind](start, names)))
    return Scenario(prefix, start, tasks)
