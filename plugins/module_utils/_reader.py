# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The reader: current state from the kernel, as model values.

Four dumps per namespace (links, addresses, IPv4 and IPv6 routes) on one read socket
(_pyroute2.DumpSocket).  Only get_attr/get_nested are used: they work on pyroute2 0.7.2
and 0.9.x alike.  A dump that a concurrent change interrupted is read again (``consistent``).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import time
from dataclasses import replace

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    IFA_F_DADFAILED,
    IFA_F_SECONDARY,
    IFA_F_TENTATIVE,
    IFF_UP,
    IPVLAN_FLAGS,
    IPVLAN_MODES,
    NLM_F_DUMP_INTR,
    RTM_F_CLONED,
    RTN_NAMES,
    RTNH_F_ONLINK,
    TABLES,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    UNNAMED,
    Address,
    Link,
    Namespace,
    NextHop,
    Route,
    netns_label,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import NetlinkDumpInterrupted

_MODE_NAMES = {v: k for k, v in IPVLAN_MODES.items()}


def _flags_name(value):
    for name, bit in IPVLAN_FLAGS.items():
        if bit == (value or 0):
            return name
    return 'unknown(%s)' % value


def link_from_msg(msg):
    """A Link value from an RTM_NEWLINK message; master_netns is resolved later."""
    kind = msg.get_nested('IFLA_LINKINFO', 'IFLA_INFO_KIND')
    mode = flags = None
    if kind == 'ipvlan':
        mode = _MODE_NAMES.get(msg.get_nested('IFLA_LINKINFO', 'IFLA_INFO_DATA', 'IFLA_IPVLAN_MODE'))
        flags = _flags_name(msg.get_nested('IFLA_LINKINFO', 'IFLA_INFO_DATA', 'IFLA_IPVLAN_FLAGS'))
    return Link(
        name=msg.get_attr('IFLA_IFNAME'),
        ifindex=msg['index'],
        kind=kind,
        up=bool(msg['flags'] & IFF_UP),
        mtu=msg.get_attr('IFLA_MTU'),
        min_mtu=msg.get_attr('IFLA_MIN_MTU'),
        max_mtu=msg.get_attr('IFLA_MAX_MTU'),
        mac=msg.get_attr('IFLA_ADDRESS'),
        alias=msg.get_attr('IFLA_IFALIAS'),
        master_index=msg.get_attr('IFLA_LINK'),
        master_netnsid=msg.get_attr('IFLA_LINK_NETNSID'),
        ipvlan_mode=mode,
        ipvlan_flags=flags,
    )


def address_from_msg(msg, names):
    ip = msg.get_attr('IFA_LOCAL') or msg.get_attr('IFA_ADDRESS')
    flags = msg.get_attr('IFA_FLAGS')
    if flags is None:
        flags = msg['flags']
    return Address(
        dev=names.get(msg['index'], str(msg['index'])),
        ip=ipaddress.ip_interface('%s/%d' % (ip, msg['prefixlen'])),
        scope=msg['scope'],
        tentative=bool(flags & IFA_F_TENTATIVE),
        dadfailed=bool(flags & IFA_F_DADFAILED),
        secondary=msg['family'] == socket.AF_INET and bool(flags & IFA_F_SECONDARY),
    )


def route_from_msg(msg, names):
    """A Route, or None for the local table (the kernel's own) and cached clones.

    Everything else is read as it is: kernel-made routes (marked by their proto),
    multipath routes (RTA_MULTIPATH: the kernel reports IPv6 siblings as one route
    too) and every type (blackhole, unreachable, prohibit, throw, local, ...).
    """
    table = msg.get_attr('RTA_TABLE') or msg['table']
    if table == TABLES['local'] or msg['flags'] & RTM_F_CLONED:
        return None
    family = 6 if msg['family'] == socket.AF_INET6 else 4
    dst = msg.get_attr('RTA_DST') or ('::' if family == 6 else '0.0.0.0')
    prefsrc = msg.get_attr('RTA_PREFSRC')
    return Route(
        dst=ipaddress.ip_network('%s/%d' % (dst, msg['dst_len'])),
        gateway=_gateway(msg),
        dev=_dev(names, msg.get_attr('RTA_OIF')),
        metric=msg.get_attr('RTA_PRIORITY') or 0,
        table=table,
        scope=msg['scope'],
        onlink=bool(msg['flags'] & RTNH_F_ONLINK),
        proto=msg['proto'],
        type=RTN_NAMES.get(msg['type'], str(msg['type'])),
        nexthops=tuple(_nexthop(hop, names) for hop in msg.get_attr('RTA_MULTIPATH') or ()),
        tos=msg['tos'],
        prefsrc=ipaddress.ip_address(prefsrc) if prefsrc else None,
    )


def _nexthop(hop, names):
    return NextHop(gateway=_gateway(hop), dev=_dev(names, hop['oif']),
                   weight=hop['hops'] + 1, onlink=bool(hop['flags'] & RTNH_F_ONLINK))


def _gateway(msg):
    """RTA_GATEWAY, or RTA_VIA: an IPv4 route through an IPv6 gateway (RFC 5549, ip route ... via inet6)."""
    via = msg.get_attr('RTA_VIA')
    return _ip_or_none(msg.get_attr('RTA_GATEWAY') or (via or {}).get('addr'))


def _ip_or_none(value):
    return ipaddress.ip_address(value) if value else None


def _dev(names, index):
    return names.get(index, str(index)) if index else None


def read_routes(sock, names, family, where='this namespace'):
    """The routes of one family, in the kernel's order (the first of one key is the one in use)."""
    dump = consistent(functools.partial(sock.routes, family), 'routes in %s' % where)
    routes = (route_from_msg(msg, names) for msg in dump)
    return [route for route in routes if route is not None]


DUMP_ATTEMPTS = 8
DUMP_BACKOFF = 0.02   # seconds before the second attempt, doubled for each further one


def consistent(dump, what):
    """The messages of DUMP(), read again while the kernel flags the dump as interrupted.

    A link, address or route added or removed while the kernel was sending a dump sets
    NLM_F_DUMP_INTR: the dump may miss or repeat objects.  The read socket raises
    NetlinkDumpInterrupted for it, as pyroute2 0.7's IPRoute does (0.9's passes the flag on
    in the messages).
    """
    for attempt in range(DUMP_ATTEMPTS):
        if attempt:
            time.sleep(DUMP_BACKOFF * 2 ** (attempt - 1))
        try:
            messages = list(dump())
        except NetlinkDumpInterrupted:
            continue
        if not any(msg['header']['flags'] & NLM_F_DUMP_INTR for msg in messages):
            return messages
    raise TaskError('%s: the kernel interrupted %d dumps in a row (NLM_F_DUMP_INTR): something keeps changing '
                    'them; run the task again once it settles' % (what, DUMP_ATTEMPTS))


def read_namespace(sock, name):
    """The state of the namespace SOCK (a _pyroute2.DumpSocket) lives in."""
    where = netns_label(name)
    links = [link_from_msg(m) for m in consistent(sock.links, 'links in %s' % where)]
    names = {link.ifindex: link.name for link in links}
    addresses = [address_from_msg(m, names) for m in consistent(sock.addresses, 'addresses in %s' % where)]
    routes = read_routes(sock, names, socket.AF_INET, where) + read_routes(sock, names, socket.AF_INET6, where)
    # An IPv4 address says the local table exists; only a namespace without one needs the kernel asked.
    local_table = any(a.ip.version == 4 for a in addresses) or sock.has_table(socket.AF_INET, TABLES['local'])
    return Namespace(name, links={link.name: link for link in links}, addresses=addresses, routes=routes,
                     ipv4_local_table=local_table)


def resolve_masters(sock, namespace, candidates, open_fd):
    """Name the namespace of each ipvlan's master and of each veth's peer (both IFLA_LINK).

    IFLA_LINK_NETNSID is an id local to the namespace being read, so it is
    matched against the ids this namespace gives each candidate namespace; CANDIDATES()
    lists them, asked only when a link points into another namespace.
    """
    known = {}
    for link_name, link in list(namespace.links.items()):
        if link.kind not in ('ipvlan', 'veth'):
            continue
        if link.master_netnsid is None:
            master_netns = namespace.name
        else:
            master_netns = _netns_for_nsid(sock, link.master_netnsid, candidates, open_fd, known)
        namespace.links[link_name] = replace(link, master_netns=master_netns)
    return namespace


def _netns_for_nsid(sock, nsid, candidates, open_fd, known):
    if nsid in known:
        return known[nsid]
    for candidate in candidates():
        if candidate in known.values():
            continue
        try:
            fd = open_fd(candidate)
        except FileNotFoundError:  # removed since it was listed
            continue
        try:
            answer = sock.netnsid(fd)
        finally:
            os.close(fd)
        known[answer] = candidate
        if answer == nsid:
            return candidate
    return UNNAMED
