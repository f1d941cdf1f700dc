# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The typed actions a plan is made of.

Each action knows three things: how to describe itself (check mode shows the
plan), what it does to the state (``predict``: the planner's after-state, which
diff mode renders, so a check run and a real run show the same diff), and how to
do it (``apply``, on a netlink session).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
from dataclasses import dataclass, replace
from typing import Optional, Tuple

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    CAP_NET_ADMIN,
    CAP_SYS_ADMIN,
    IFA_F_NODAD,
    IPVLAN_FLAGS,
    IPVLAN_MODES,
    RTN_TYPES,
    RTNH_F_ONLINK,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    Address,
    Link,
    Namespace,
    Route,
    display_name,
    is_netns_path,
    netns_label,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import NetlinkError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import read_routes


@contextlib.contextmanager
def _already_gone(code):
    """A deletion whose object is already gone has done its job."""
    try:
        yield
    except NetlinkError as exc:
        if getattr(exc, 'code', None) != code:
            raise


def _where(netns):
    return ' in %s' % netns_label(netns)


@dataclass(frozen=True)
class Action:
    netns: Optional[str]
    creates_ipvlan = False
    capability = CAP_NET_ADMIN   # what applying it needs (see _caps)

    def describe(self):
        raise NotImplementedError

    def predict(self, world):
        raise NotImplementedError

    def apply(self, session):
        raise NotImplementedError


@dataclass(frozen=True)
class CreateNetns(Action):
    repair: Optional[str] = None   # the leftover the create finishes on (an interrupted create's file)
    capability = CAP_SYS_ADMIN

    def describe(self):
        if self.repair:
            return 'repair namespace %s (%s)' % (display_name(self.netns), self.repair)
        return 'create namespace %s' % display_name(self.netns)

    def predict(self, world):
        world.namespaces[self.netns] = Namespace.fresh(self.netns)

    def apply(self, session):
        session.create_netns(self.netns, repair=bool(self.repair))


@dataclass(frozen=True)
class DeleteNetns(Action):
    """The namespace goes, and with it the peers elsewhere of its veth links.

    The kernel tears a namespace down in the background once its name (and every other user) is
    gone; apply waits until the peers are gone too, so that what follows sees what was predicted.
    """
    leftover: Optional[str] = None   # what holds the name when it is no namespace
    peers: Tuple = ()                # (netns, name, ifindex) of the veth ends elsewhere
    capability = CAP_SYS_ADMIN

    def describe(self):
        if self.leftover:
            return 'remove /run/netns/%s (%s)' % (display_name(self.netns), self.leftover)
        return 'delete namespace %s%s' % (display_name(self.netns), ''.join(
            ', and with it veth %s%s' % (name, _where(netns)) for netns, name, _index in self.peers))

    def predict(self, world):
        world.namespaces[self.netns] = Namespace(self.netns, exists=False)
        for netns, name, _index in self.peers:
            world.get(netns).drop_link(name)

    def apply(self, session):
        session.delete_netns(self.netns)
        session.wait_gone([(netns, index) for netns, _name, index in self.peers])


@dataclass(frozen=True)
class CreateIpvlan(Action):
    name: str = ''
    master: str = ''
    master_index: int = 0
    master_netns: Optional[str] = None
    mode: str = 'l3'
    flags: str = 'bridge'
    mtu: Optional[int] = None
    master_mtu: int = 1500
    mac: Optional[str] = None
    creates_ipvlan = True

    def describe(self):
        master_where = '' if self.master_netns == self.netns else ' (%s)' % netns_label(self.master_netns)
        return 'create ipvlan %s on %s%s, mode %s %s%s' % (
            self.name, self.master, master_where, self.mode, self.flags, _where(self.netns))

    def predict(self, world):
        ns = world.namespaces[self.netns]
        ns.links[self.name] = Link(
            self.name, kind='ipvlan', up=False, mtu=self.mtu or self.master_mtu, mac=self.mac,
            master_index=self.master_index, master_netns=self.master_netns,
            ipvlan_mode=self.mode, ipvlan_flags=self.flags)

    def apply(self, session):
        # Created straight in the target namespace (one request, as the HOWTO's
        # add + "set netns" would do in two); the master is found in the source one.
        kwargs = dict(kind='ipvlan', link=self.master_index,
                      ipvlan_mode=IPVLAN_MODES[self.mode], ipvlan_flags=IPVLAN_FLAGS[self.flags])
        if self.mtu is not None:
            kwargs['mtu'] = self.mtu
        source = session.ipr(self.master_netns)
        with session.netns_fd(self.netns, unless=self.master_netns) as target_fd:
            if target_fd is not None:
                kwargs['net_ns_fd'] = target_fd
            # The kernel looks the new name up in the namespace of the request (the master's),
            # not in the target: a link of that name beside the master makes it EEXIST. Then the
            # slave is made under a temporary name and renamed in its own namespace.
            clash = target_fd is not None and bool(source.link_lookup(ifname=self.name))
            temporary = 'lnt-%d' % os.getpid()
            source.link('add', ifname=temporary if clash else self.name, **kwargs)
        if clash:
            index = session.ifindex(self.netns, temporary)
            try:
                session.ipr(self.netns).link('set', index=index, ifname=self.name)
            except NetlinkError:
                session.ipr(self.netns).link('del', index=index)
                raise


@dataclass(frozen=True)
class SetIpvlanPort(Action):
    """Mode and flags belong to the master's port: every slave on it changes."""
    name: str = ''
    mode: str = 'l3'
    flags: str = 'bridge'
    port: Tuple = ()          # (master_netns, master_index)
    siblings: Tuple = ()      # ((netns, name), ...) of the other slaves

    def describe(self):
        text = 'set ipvlan port of %s%s to mode %s %s' % (self.name, _where(self.netns), self.mode, self.flags)
        if self.siblings:
            text += ' (shared with %s)' % ', '.join(_sibling(ns, n) for ns, n in self.siblings)
        return text

    def predict(self, world):
        for ns in world.namespaces.values():
            for name, link in list(ns.links.items()):
                if link.kind == 'ipvlan' and (link.master_netns, link.master_index) == self.port:
                    ns.links[name] = replace(link, ipvlan_mode=self.mode, ipvlan_flags=self.flags)

    def apply(self, session):
        ipr = session.ipr(self.netns)
        ipr.link('set', index=session.ifindex(self.netns, self.name), kind='ipvlan',
                 ipvlan_mode=IPVLAN_MODES[self.mode], ipvlan_flags=IPVLAN_FLAGS[self.flags])


def _sibling(netns, name):
    """NETNS/NAME, or NAME in PATH for a namespace given by path (NETNS/NAME would read as one path)."""
    if is_netns_path(netns):
        return '%s in %s' % (name, netns)
    return '%s/%s' % (netns or '(root)', name)


@dataclass(frozen=True)
class MoveLink(Action):
    name: str = ''
    to_netns: Optional[str] = None

    def describe(self):
        return 'move %s from %s to %s' % (self.name, netns_label(self.netns), netns_label(self.to_netns))

    def predict(self, world):
        source = world.namespaces[self.netns]
        link = source.links[self.name]
        source.drop_link(self.name)
        # A moved link arrives down and without addresses.
        world.namespaces[self.to_netns].links[self.name] = replace(link, up=False)

    def apply(self, session):
        index = session.ifindex(self.netns, self.name)
        with session.netns_fd(self.to_netns) as target_fd:
            session.ipr(self.netns).link('set', index=index, net_ns_fd=target_fd)


@dataclass(frozen=True)
class DeleteLink(Action):
    name: str = ''

    def describe(self):
        return 'delete link %s%s' % (self.name, _where(self.netns))

    def predict(self, world):
        world.namespaces[self.netns].drop_link(self.name)

    def apply(self, session):
        session.ipr(self.netns).link('del', index=session.ifindex(self.netns, self.name))


@dataclass(frozen=True)
class SetLink(Action):
    name: str = ''
    up: Optional[bool] = None
    mtu: Optional[int] = None
    alias: Optional[str] = None

    def describe(self):
        changes = []
        if self.up is not None:
            changes.append('up' if self.up else 'down')
        if self.mtu is not None:
            changes.append('mtu %d' % self.mtu)
        if self.alias is not None:
            changes.append('alias %r' % self.alias)
        return 'set %s%s %s' % (self.name, _where(self.netns), ', '.join(changes))

    def predict(self, world):
        ns = world.namespaces[self.netns]
        link = ns.links[self.name]
        changes = {k: v for k, v in (('up', self.up), ('mtu', self.mtu), ('alias', self.alias)) if v is not None}
        ns.links[self.name] = replace(link, **changes)
        if self.up is False and link.up:
            # The kernel flushes IPv6 addresses and every route through a link that goes down.
            ns.addresses = [a for a in ns.addresses if a.dev != self.name or a.ip.version == 4]
            ns.link_down(self.name)
        if self.up and not link.up and self.name == 'lo':
            # Bringing lo up gives it 127.0.0.1/8 and ::1/128.
            for ip in ('127.0.0.1/8', '::1/128'):
                address = Address('lo', ipaddress.ip_interface(ip), scope=254)
                if all(a.ip != address.ip for a in ns.addresses_of('lo')):
                    ns.add_address(address)
        if self.up and not link.up:
            ns.link_up(self.name)

    def apply(self, session):
        kwargs = {}
        if self.mtu is not None:
            kwargs['mtu'] = self.mtu
        if self.alias is not None:
            kwargs['ifalias'] = self.alias
        if self.up is not None:
            kwargs['state'] = 'up' if self.up else 'down'
        session.ipr(self.netns).link('set', index=session.ifindex(self.netns, self.name), **kwargs)


@dataclass(frozen=True)
class AddAddress(Action):
    dev: str = ''
    ip: object = None
    nodad: bool = False

    def describe(self):
        return 'add address %s to %s%s' % (self.ip, self.dev, _where(self.netns))

    def predict(self, world):
        ns = world.namespaces[self.netns]
        # IPv4: another address of the subnet came first, so this one is its secondary (no prefix route).
        secondary = self.ip.version == 4 and any(a.ip.network == self.ip.network for a in ns.addresses_of(self.dev))
        address = Address(self.dev, self.ip, scope=254 if self.ip.ip.is_loopback else 0, secondary=secondary)
        ns.add_address(address)
        ns.add_connected(address)

    def restores(self, namespace):
        """Was this IPv6 address there (flushed by the kernel meanwhile, see _runner)?"""
        return (namespace.exists and self.ip.version == 6
                and any(a.ip == self.ip for a in namespace.addresses_of(self.dev)))

    def apply(self, session):
        kwargs = dict(index=session.ifindex(self.netns, self.dev), address=str(self.ip.ip),
                      prefixlen=self.ip.network.prefixlen)
        if self.nodad and self.ip.version == 6:
            kwargs['flags'] = IFA_F_NODAD
        session.ipr(self.netns).addr('add', **kwargs)


@dataclass(frozen=True)
class DeleteAddress(Action):
    dev: str = ''
    ip: object = None

    def describe(self):
        return 'delete address %s from %s%s' % (self.ip, self.dev, _where(self.netns))

    def predict(self, world):
        ns = world.namespaces[self.netns]
        gone = [a for a in ns.addresses if (a.dev, a.ip) == (self.dev, self.ip)]
        ns.addresses = [a for a in ns.addresses if a not in gone]
        for address in gone:
            ns.address_gone(address)

    def apply(self, session):
        with _already_gone(errno.EADDRNOTAVAIL):
            session.ipr(self.netns).addr('del', index=session.ifindex(self.netns, self.dev),
                                         address=str(self.ip.ip), prefixlen=self.ip.network.prefixlen)


def _route_kwargs(session, netns, route):
    """The whole identity of ROUTE as netlink attributes, for adding and deleting alike.

    A deletion matches on what it is given.  IPv4 (fib_table_delete, fib_nh_match): type, proto
    and prefsrc when set, the scope unless RT_SCOPE_NOWHERE, the first next hop's oif and
    gateway, or every path of RTA_MULTIPATH; priority 0 matches any metric.  IPv6
    (ip6_route_del): oif, gateway (then only that sibling goes), metric and proto; RTA_MULTIPATH
    deletes each path.  pyroute2 alone would send scope universe, which misses every scope link
    route (ESRCH), and no type, which may hit a route of another type.
    """
    kwargs = dict(dst=str(route.dst.network_address), dst_len=route.dst.prefixlen,
                  family=socket.AF_INET6 if route.family == 6 else socket.AF_INET, table=route.table,
                  priority=route.metric, tos=route.tos, proto=route.proto, scope=route.scope,
                  type=RTN_TYPES.get(route.type) or int(route.type))
    kwargs.update(_hop_kwargs(session, netns, route, route.gateway, route.dev, route.onlink))
    if route.prefsrc is not None:
        kwargs['prefsrc'] = str(route.prefsrc)
    if route.nexthops:
        kwargs['multipath'] = [dict(_hop_kwargs(session, netns, route, hop.gateway, hop.dev, hop.onlink),
                                    hops=hop.weight - 1) for hop in route.nexthops]
    return kwargs


def _hop_kwargs(session, netns, route, gateway, dev, onlink):
    kwargs = {}
    if gateway is not None and gateway.version != route.family:
        kwargs['via'] = {'family': socket.AF_INET6, 'addr': str(gateway)}   # read from RTA_VIA (RFC 5549)
    elif gateway is not None:
        kwargs['gateway'] = str(gateway)
    if dev:
        kwargs['oif'] = session.ifindex(netns, dev)
    if onlink:
        kwargs['flags'] = RTNH_F_ONLINK
    return kwargs


@dataclass(frozen=True)
class AddRoute(Action):
    route: Route = None

    def describe(self):
        return 'add route %s%s' % (self.route.render(), _where(self.netns))

    def predict(self, world):
        world.namespaces[self.netns].routes.append(self.route)

    def restores(self, namespace):
        """Was this route there (the kernel flushed it meanwhile, see _runner)?"""
        return namespace.exists and any(r.key == self.route.key for r in namespace.routes)

    def apply(self, session):
        session.ipr(self.netns).route('add', **_route_kwargs(session, self.netns, self.route))


@dataclass(frozen=True)
class ReplaceRoute(Action):
    old: Route = None
    route: Route = None

    def describe(self):
        return 'replace route %s with %s%s' % (self.old.render(), self.route.render(), _where(self.netns))

    def predict(self, world):
        ns = world.namespaces[self.netns]
        ns.routes = [self.route if r == self.old else r for r in ns.routes]

    def apply(self, session):
        session.ipr(self.netns).route('replace', **_route_kwargs(session, self.netns, self.route))


@dataclass(frozen=True)
class DeleteRoute(Action):
    route: Route = None

    def describe(self):
        return 'delete route %s%s' % (self.route.render(), _where(self.netns))

    def predict(self, world):
        ns = world.namespaces[self.netns]
        ns.routes = [r for r in ns.routes if r != self.route]

    def apply(self, session):
        try:
            session.ipr(self.netns).route('del', **_route_kwargs(session, self.netns, self.route))
        except (NetlinkError, TaskError) as exc:
            # Nothing matched (ESRCH), or a device of it is gone: the kernel may have flushed the
            # route meanwhile.  That is done only if a fresh read agrees; otherwise the request
            # missed a route that is there, and saying "deleted" would be a lie.
            if isinstance(exc, NetlinkError) and getattr(exc, 'code', None) != errno.ESRCH:
                raise
            if self.route in self._read(session):
                raise TaskError('the kernel did not delete route %s%s although it is there (%s)'
                                % (self.route.render(), _where(self.netns), exc))

    def _read(self, session):
        sock = session.reader(self.netns)
        names = {msg['index']: msg.get_attr('IFLA_IFNAME') for msg in sock.links()}
        return read_routes(sock, names, socket.AF_INET6 if self.route.family == 6 else socket.AF_INET)
