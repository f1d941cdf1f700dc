# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The model: kernel objects as values, desired state as validated specs.

The reader builds the state classes from netlink, the planner compares them
with the specs.  Nothing here talks to the kernel, so it is unit-tested as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    IPV6_PREFIX_METRIC,
    KERNEL_PROTOS,
    PROTO_KERNEL,
    PROTO_NAMES,
    PROTO_STATIC,
    SCOPE_NAMES,
    SCOPES,
    TABLES,
)

ROOT = None            # the namespace a module starts in (its "root" namespace)
UNNAMED = '<unnamed>'  # a namespace without a /run/netns name (a container's, say)

# The management marker: the interface alias of the objects topology manages (lo
# stands for its namespace).  It names the owner, the scope whose purge may remove
# the object; a marker without owner (written before owners existed) is DEFAULT_OWNER's.
MANAGED_ALIAS = 'managed-by=linuxnet.ipvlan'
DEFAULT_OWNER = 'default'
_OWNER_PREFIX = MANAGED_ALIAS + ' owner='


def marker(owner):
    """The alias that marks an object as managed by OWNER."""
    return _OWNER_PREFIX + owner


def marker_owner(alias):
    """The owner an alias names, or None when it is not our marker."""
    if alias == MANAGED_ALIAS:
        return DEFAULT_OWNER
    if alias and alias.startswith(_OWNER_PREFIX) and ' ' not in alias[len(_OWNER_PREFIX):]:
        return alias[len(_OWNER_PREFIX):] or None
    return None


def display_name(name):
    """NAME as messages show it: quoted when it holds characters a line cannot show (tab, newline)."""
    return name if name.isprintable() else json.dumps(name)


def netns_label(name):
    return 'the root namespace' if name is ROOT else 'namespace %s' % display_name(name)


def is_netns_path(ref):
    """Is REF a path to a namespace file (/proc/PID/ns/net, a bind mount of a container runtime's)
    rather than a name under /run/netns?  A name is one path component: it never holds a "/"."""
    return isinstance(ref, str) and ref.startswith('/')


# --- values read from the kernel ------------------------------------------------

@dataclass(frozen=True)
class Link:
    name: str
    ifindex: int = 0
    kind: Optional[str] = None
    up: bool = False
    mtu: int = 1500
    min_mtu: Optional[int] = None
    max_mtu: Optional[int] = None
    mac: Optional[str] = None
    alias: Optional[str] = None
    # For stacked links (ipvlan): the master's ifindex and its namespace, resolved
    # from IFLA_LINK and IFLA_LINK_NETNSID; for a veth, its peer's.
    master_index: Optional[int] = None
    master_netnsid: Optional[int] = field(default=None, compare=False)
    master_netns: Optional[str] = ROOT
    ipvlan_mode: Optional[str] = None
    ipvlan_flags: Optional[str] = None

    @property
    def owner(self):
        """The owner its marker names; None when it carries no marker."""
        return marker_owner(self.alias)

    @property
    def managed(self):
        return self.owner is not None


@dataclass(frozen=True)
class Address:
    dev: str
    ip: object  # ipaddress.IPv4Interface | IPv6Interface
    scope: int = 0
    tentative: bool = False
    dadfailed: bool = False
    # IPv4: another address of the same subnet came first (the primary); deleting
    # the primary deletes this one too (promote_secondaries=0, the default).
    secondary: bool = False

    @property
    def link_local(self):
        return self.ip.version == 6 and self.ip.ip.is_link_local


@dataclass(frozen=True)
class NextHop:
    """One path of a multipath route (RTA_MULTIPATH); the kernel's weight is rtnh_hops + 1."""
    gateway: Optional[object] = None
    dev: Optional[str] = None
    weight: int = 1
    onlink: bool = False

    def render(self):
        words = ['nexthop']
        if self.gateway is not None:
            words += ['via', str(self.gateway)]
        if self.dev:
            words += ['dev', self.dev]
        if self.weight != 1:
            words += ['weight', str(self.weight)]
        if self.onlink:
            words.append('onlink')
        return ' '.join(words)


@dataclass(frozen=True)
class Route:
    dst: object                      # ipaddress network; 0.0.0.0/0 or ::/0 for default
    gateway: Optional[object] = None
    dev: Optional[str] = None
    metric: int = 0
    table: int = TABLES['main']
    scope: int = 0
    onlink: bool = False
    proto: int = PROTO_STATIC
    type: Optional[str] = 'unicast'      # None only in a pattern of routes to remove: any type
    nexthops: Tuple[NextHop, ...] = ()   # a multipath route: two or more, and no gateway or dev of its own
    tos: int = 0
    prefsrc: Optional[object] = None     # read only: the kernel sets it on the routes of an address

    @property
    def family(self):
        return self.dst.version

    @property
    def kernel(self):
        """Made (and removed) by the kernel itself: an address's prefix route, a router advertisement's."""
        return self.proto in KERNEL_PROTOS

    @property
    def key(self):
        """What the kernel identifies a route by when one is added: a second route with the same key
        collides with it (EEXIST) or replaces it.  IPv4 (fib_table_insert, fib_find_alias): table,
        dst/len, tos, priority.  IPv6 (fib6_add_rt2node): table, dst/len, metric (tos is 0).
        The type is not part of it: a blackhole replaces the unicast route with its key."""
        return (self.dst.version, self.table, self.dst, self.tos, self.metric)

    @property
    def paths(self):
        """The next hops: a multipath route's, or its own single one."""
        return self.nexthops or (NextHop(self.gateway, self.dev, onlink=self.onlink),)

    def through(self, dev):
        return any(path.dev == dev for path in self.paths)

    # What a refusal of repeated_path() tells the user.
    REPEATED_PATH_HINT = ('an IPv6 multipath route has each gateway once per device (the kernel refuses the route: '
                          'EEXIST): give the path once, with a weight')

    def repeated_path(self):
        """(first, again): the indexes of two nexthops an IPv6 route cannot both have, or None.

        IPv6 keeps each path of a multipath route as a route of its own (a sibling) and refuses the
        route when two have one gateway and one device (EEXIST, rt6_duplicate_nexthop), whatever
        their weight or onlink.  IPv4 keeps repeated paths, each one more share of the traffic."""
        seen = {}
        for index, hop in enumerate(self.nexthops if self.family == 6 else ()):
            first = seen.setdefault((hop.gateway, hop.dev), index)
            if first != index:
                return first, index
        return None

    def render(self):
        words = [] if self.type in ('unicast', None) else [self.type]
        words.append('default' if self.dst.prefixlen == 0 else str(self.dst))
        if self.gateway is not None:
            words += ['via', str(self.gateway)]
        if self.dev:
            words += ['dev', self.dev]
        if self.table != TABLES['main']:
            words += ['table', str(self.table)]
        if self.kernel:
            words += ['proto', PROTO_NAMES[self.proto]]
        if self.metric:
            words += ['metric', str(self.metric)]
        if self.scope:
            words += ['scope', SCOPE_NAMES.get(self.scope, str(self.scope))]
        if self.prefsrc is not None:
            words += ['src', str(self.prefsrc)]
        if self.tos:
            words += ['tos', '0x%x' % self.tos]
        if self.onlink:
            words.append('onlink')
        words += [hop.render() for hop in self.nexthops]
        return ' '.join(words)


def connected_route(address):
    """The route the kernel makes for an address on an up link, or None.

    IPv4 (fib_add_ifaddr): the subnet of a primary address, unless it is a /32, scope link,
    with the address as preferred source; on lo it goes to the local table (not modelled).
    IPv6 (inet6_addr_add, addrconf_prefix_route): the prefix, a /128 included, metric 256;
    ::1 lives in the local table.
    """
    ip = address.ip
    if ip.version == 4:
        zeronet = ip.network.network_address.packed[0] == 0
        if address.secondary or ip.network.prefixlen == 32 or address.dev == 'lo' or zeronet:
            return None
        return Route(ip.network, dev=address.dev, scope=SCOPES['link'], proto=PROTO_KERNEL, prefsrc=ip.ip)
    if ip.ip.is_loopback:
        return None
    return Route(ip.network, dev=address.dev, metric=IPV6_PREFIX_METRIC, proto=PROTO_KERNEL)


@dataclass(frozen=True)
class Leftover:
    """What holds /run/netns/NAME when it is not a namespace."""
    what: str                  # for messages: 'leftover file', 'a mount of /tmp/x from tmpfs', ...
    repairable: bool = False   # an empty file an interrupted create left: creating can finish on it


@dataclass
class Namespace:
    """The state of one network namespace as read (or as predicted by the planner)."""
    name: Optional[str]
    exists: bool = True
    links: dict = field(default_factory=dict)       # name -> Link
    addresses: list = field(default_factory=list)   # [Address]
    routes: list = field(default_factory=list)      # [Route], the local table left out
    leftover: Optional[Leftover] = None             # when it does not exist: what holds its name
    # IPv4's local routing table exists: the kernel makes it with the first IPv4 address and keeps it
    # (a history, not a state: read from the kernel). An IPv4 onlink gateway is refused without it.
    ipv4_local_table: bool = False

    def __post_init__(self):
        # An IPv4 address has its local route in that table: it exists.
        self.ipv4_local_table = self.ipv4_local_table or any(a.ip.version == 4 for a in self.addresses)

    def copy(self):
        return Namespace(self.name, self.exists, dict(self.links), list(self.addresses), list(self.routes),
                         self.leftover, self.ipv4_local_table)

    def addresses_of(self, dev):
        return [a for a in self.addresses if a.dev == dev]

    def add_address(self, address):
        self.addresses.append(address)
        if address.ip.version == 4:
            self.ipv4_local_table = True

    # --- what the kernel does to routes when links and addresses change -------------
    # Each rule was watched on the host kernel (tests/integration/test_route.py).

    def add_connected(self, address):
        """An address on an up link brings its prefix route (fib_magic / addrconf_prefix_route
        add without NLM_F_EXCL: nothing when the same route is there, appended otherwise)."""
        link = self.links.get(address.dev)
        route = connected_route(address)
        if link is None or not link.up or route is None:
            return
        if not any(r.key == route.key and r.paths == route.paths and r.proto == route.proto for r in self.routes):
            self.routes.append(route)

    def link_up(self, dev):
        """Admin up (NETDEV_UP): the prefix routes of the addresses the link kept come back."""
        for address in self.addresses_of(dev):
            self.add_connected(address)

    def link_down(self, dev, family=None):
        """Admin down, or the last IPv4 address gone (fib_sync_down_dev, rt6_sync_down_dev): every
        route through DEV goes; a multipath route with a live path elsewhere stays, that path dead."""
        self.routes = [r for r in self.routes if family not in (None, r.family) or not r.through(dev)
                       or not all(self._dead(p, dev) for p in r.paths)]

    def _dead(self, path, dev):
        """Is a next hop dead once DEV is down: through DEV, or through a link already down?"""
        link = self.links.get(path.dev)
        return path.dev == dev or (link is not None and not link.up)

    def drop_link(self, dev):
        """DEV deleted or moved to another namespace (NETDEV_UNREGISTER): its addresses go, with the
        routes that go with them (address_gone); then IPv4 routes with any path through DEV go, and
        IPv6 multipath routes lose the paths (siblings) through it and keep the others."""
        self.links.pop(dev, None)
        for address in self.addresses_of(dev):
            self.addresses.remove(address)
            self.address_gone(address)
        kept = []
        for route in self.routes:
            if not route.through(dev):
                kept.append(route)
            elif route.family == 6 and route.nexthops:
                left = tuple(p for p in route.nexthops if p.dev != dev)
                if all(self._dead(p, dev) for p in left):
                    continue   # rt6_multipath_dead_count: no live sibling left
                if len(left) > 1:
                    kept.append(replace(route, nexthops=left))
                elif left:
                    kept.append(replace(route, nexthops=(), gateway=left[0].gateway, dev=left[0].dev,
                                        onlink=left[0].onlink))
        self.routes = kept

    def address_gone(self, address):
        """After ADDRESS was deleted.

        IPv4 (fib_del_ifaddr): its prefix route goes; when no link of the namespace holds the IP any
        more, so does every main-table route preferring it as source (fib_sync_down_addr); when the
        link holds no IPv4 address any more, every IPv4 route through it (fib_disable_ip).  Routes
        via a gateway that the prefix covered stay.  IPv6: the prefix route goes with the last
        address of that prefix on the link.
        """
        ip, dev = address.ip, address.dev
        if ip.version == 6:
            if not any(a.ip.network == ip.network for a in self.addresses_of(dev)):
                self.routes = [r for r in self.routes
                               if not (r.kernel and r.dst == ip.network and r.dev == dev and r.family == 6)]
            return
        self.routes = [r for r in self.routes if not (r.kernel and r.dev == dev and r.prefsrc == ip.ip)]
        if not any(a.ip.ip == ip.ip for a in self.addresses):
            self.routes = [r for r in self.routes if not (r.prefsrc == ip.ip and r.table == TABLES['main'])]
        if not any(a.ip.version == 4 for a in self.addresses_of(dev)):
            self.link_down(dev, family=4)

    @classmethod
    def fresh(cls, name):
        """What the kernel puts in a new namespace: a loopback that is down, as the reader reads it."""
        return cls(name, links={'lo': Link('lo', ifindex=1, up=False, mtu=65536, min_mtu=0, max_mtu=0,
                                           mac='00:00:00:00:00:00')})


class World:
    """Namespace states by key (ROOT for the module's own), read on first use.

    A namespace is reached by a reference: ROOT, a name under /run/netns, or a path to a
    namespace file.  A path that reaches a namespace (same st_dev and st_ino) that a name or ROOT
    reaches has that key; two paths to one namespace without a name have one key, the first used,
    so that the planner never sees one namespace twice.  IDENTIFY(ref) gives that
    identity (None when nothing is there); without it every reference is its own key.

    The planner works on a copy and lets each action predict its effect on it.
    """

    def __init__(self, loader=None, names=None, namespaces=None, unnamed=None, identify=None):
        self._loader = loader
        self._names = names          # the named namespaces
        self._unnamed = unnamed      # paths to the namespaces without a name (see _netns.unnamed_netns)
        self._identify = identify
        self._keys = None            # identity -> key, seeded with ROOT and the names
        self.namespaces = dict(namespaces or {})

    def key(self, ref):
        """The key of the namespace REF reaches (see the class).  A name is always its own key: a
        namespace is created and removed by name, and two names stacked on one namespace stay two."""
        if not is_netns_path(ref) or self._identify is None or ref in self.namespaces:
            return ref
        identity = self._identify(ref)
        if identity is None:
            return ref
        return self._seeded().setdefault(identity, ref)

    def _seeded(self):
        if self._keys is None:
            self._keys = {}
            for name in [ROOT] + list(self._names() if self._names else []):
                identity = self._identify(name)
                if identity is not None:
                    self._keys.setdefault(identity, name)
        return self._keys

    def get(self, name):
        key = self.key(name)
        if key not in self.namespaces:
            self.namespaces[key] = self._keyed(self._loader(key)) if self._loader else Namespace(key, exists=False)
        return self.namespaces[key]

    def _keyed(self, namespace):
        """NAMESPACE with the namespaces of its links' masters and peers given by their keys."""
        for name, link in list(namespace.links.items()):
            if link.master_netns not in (ROOT, namespace.name):
                namespace.links[name] = replace(link, master_netns=self.key(link.master_netns))
        return namespace

    def names(self):
        """Every namespace that exists: the root one, the named ones, those found without a name."""
        listed = list(self._names()) if self._names else [n for n in self.namespaces if n is not ROOT]
        # A process found holding one may have ended since: then its path reaches nothing.
        if self._unnamed and self._identify:
            listed += [n for n in self._unnamed() if self._identify(n) is not None]
        known = {self.key(n) for n in listed} | {n for n, ns in self.namespaces.items() if ns.exists}
        known.discard(ROOT)
        return [ROOT] + sorted(known)

    def all(self):
        return [self.get(name) for name in self.names()]

    def copy(self):
        clone = World(self._loader, self._names, unnamed=self._unnamed, identify=self._identify)
        clone._keys = self._seeded() if self._identify else None   # one identity, one key, in both
        clone.namespaces = {name: ns.copy() for name, ns in self.namespaces.items()}
        # The clone reads through to the original so that both see one kernel read.
        clone._loader = lambda name: self.get(name).copy()
        return clone

    def veth_peers_in(self, name):
        """The veth ends in other namespaces whose peer is in namespace NAME, as (namespace, link):
        the kernel deletes them when it tears NAME down (every namespace is read)."""
        return [(ns.name, link) for ns in self.all() if ns.name != name and ns.exists
                for link in ns.links.values() if link.kind == 'veth' and link.master_netns == name]

    def master_of(self, link):
        """The master link of a stacked link (ipvlan), or None when it cannot be seen."""
        if link.master_index is None or link.master_netns == UNNAMED:
            return None
        for candidate in self.get(link.master_netns).links.values():
            if candidate.ifindex == link.master_index:
                return candidate
        return None


# --- desired state ----------------------------------------------------------------

@dataclass(frozen=True)
class LinkSpec:
    """Admin state, mtu and alias of an existing link; MOVE: one still in the root namespace is moved in."""
    name: str
    up: Optional[bool] = None
    mtu: Optional[int] = None
    alias: Optional[str] = None
    move: bool = False


@dataclass(frozen=True)
class IpvlanSpec:
    name: str
    master: str = ''
    master_netns: Optional[str] = ROOT
    mode: str = 'l3'
    flags: str = 'bridge'
    mtu: Optional[int] = None
    up: Optional[bool] = None
    present: bool = True
    recreate: bool = False
    allow_port_change: bool = False
    marker: Optional[str] = None   # the alias that marks it managed (topology), None: leave the alias


@dataclass(frozen=True)
class AddressesSpec:
    dev: str
    addresses: Tuple[object, ...] = ()
    present: bool = True
    purge: bool = False
    nodad: bool = False


@dataclass(frozen=True)
class RouteSpec:
    route: Route
    present: bool = True


@dataclass(frozen=True)
class NamespaceSpec:
    """Everything a task wants in one namespace.

    ``ensure`` is 'present' (create when missing), 'absent' (remove), or
    'exists' (must already exist: the link/address/route modules never create one).
    """
    name: Optional[str]
    ensure: str = 'exists'
    ipvlans: Tuple[IpvlanSpec, ...] = ()
    links: Tuple[LinkSpec, ...] = ()
    addresses: Tuple[AddressesSpec, ...] = ()
    routes: Tuple[RouteSpec, ...] = ()
    purge_routes: bool = False

    @property
    def only_removes(self):
        """Asks for nothing but absence: satisfied by a namespace that does not exist."""
        return (not self.links and not self.purge_routes
                and not any(i.present for i in self.ipvlans)
                and not any(a.present for a in self.addresses)
                and not any(r.present for r in self.routes))
