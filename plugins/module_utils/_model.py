# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The model: kernel objects as values, desired state as validated specs.

The reader builds the state classes from netlink, the planner compares them
with the specs.  Nothing here talks to the kernel, so it is unit-tested as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    PROTO_STATIC,
    SCOPE_NAMES,
    TABLES,
)

ROOT = None            # the namespace a module starts in (its "root" namespace)
UNNAMED = '<unnamed>'  # a namespace without a /run/netns name (a container's, say)

MANAGED_ALIAS = 'managed-by=linuxnet.ipvlan'


def netns_label(name):
    return 'the root namespace' if name is ROOT else 'namespace %s' % name


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
    # from IFLA_LINK and IFLA_LINK_NETNSID.
    master_index: Optional[int] = None
    master_netnsid: Optional[int] = field(default=None, compare=False)
    master_netns: Optional[str] = ROOT
    ipvlan_mode: Optional[str] = None
    ipvlan_flags: Optional[str] = None

    @property
    def managed(self):
        return self.alias == MANAGED_ALIAS


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
class Route:
    dst: object                      # ipaddress network; 0.0.0.0/0 or ::/0 for default
    gateway: Optional[object] = None
    dev: Optional[str] = None
    metric: int = 0
    table: int = TABLES['main']
    scope: int = 0
    onlink: bool = False
    proto: int = PROTO_STATIC

    @property
    def family(self):
        return self.dst.version

    @property
    def key(self):
        """What identifies a route to the kernel: a second route with the same key replaces it."""
        return (self.dst.version, self.table, self.dst, self.metric)

    def render(self):
        words = ['default' if self.dst.prefixlen == 0 else str(self.dst)]
        if self.gateway is not None:
            words += ['via', str(self.gateway)]
        if self.dev:
            words += ['dev', self.dev]
        if self.table != TABLES['main']:
            words += ['table', str(self.table)]
        if self.metric:
            words += ['metric', str(self.metric)]
        if self.scope:
            words += ['scope', SCOPE_NAMES.get(self.scope, str(self.scope))]
        if self.onlink:
            words.append('onlink')
        return ' '.join(words)


@dataclass
class Namespace:
    """The state of one network namespace as read (or as predicted by the planner)."""
    name: Optional[str]
    exists: bool = True
    links: dict = field(default_factory=dict)       # name -> Link
    addresses: list = field(default_factory=list)   # [Address]
    routes: list = field(default_factory=list)      # [Route], user routes only

    def copy(self):
        return Namespace(self.name, self.exists, dict(self.links), list(self.addresses), list(self.routes))

    def addresses_of(self, dev):
        return [a for a in self.addresses if a.dev == dev]

    @classmethod
    def fresh(cls, name):
        """What the kernel puts in a new namespace: a loopback that is down."""
        return cls(name, links={'lo': Link('lo', ifindex=1, up=False, mtu=65536, kind=None)})


class World:
    """Namespace states by name (ROOT for the module's own), read on first use.

    The planner works on a copy and lets each action predict its effect on it.
    """

    def __init__(self, loader=None, names=None, namespaces=None):
        self._loader = loader
        self._names = names
        self.namespaces = dict(namespaces or {})

    def get(self, name):
        if name not in self.namespaces:
            self.namespaces[name] = self._loader(name) if self._loader else Namespace(name, exists=False)
        return self.namespaces[name]

    def names(self):
        """Every namespace that exists: the root one and all named ones."""
        listed = self._names() if self._names else [n for n in self.namespaces if n is not ROOT]
        known = set(listed) | {n for n, ns in self.namespaces.items() if ns.exists and n is not ROOT}
        return [ROOT] + sorted(known)

    def all(self):
        return [self.get(name) for name in self.names()]

    def copy(self):
        clone = World(self._loader, self._names)
        clone.namespaces = {name: ns.copy() for name, ns in self.namespaces.items()}
        # The clone reads through to the original so that both see one kernel read.
        clone._loader = lambda name: self.get(name).copy()
        return clone

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
    """Admin state, mtu and alias of an existing link."""
    name: str
    up: Optional[bool] = None
    mtu: Optional[int] = None
    alias: Optional[str] = None


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
    mark_managed: bool = False


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
    mark_managed: bool = False

    @property
    def only_removes(self):
        """Asks for nothing but absence: satisfied by a namespace that does not exist."""
        return (not self.links and not self.purge_routes
                and not any(i.present for i in self.ipvlans)
                and not any(a.present for a in self.addresses)
                and not any(r.present for r in self.routes))


