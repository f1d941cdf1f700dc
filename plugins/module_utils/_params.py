# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parameters to values: every bad value is a TaskError that names its parameter.

Modules turn their (already type-checked) parameters into model values here,
before anything is read from the kernel.
"""

from __future__ import annotations

import ipaddress
import string

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    IFALIASZ,
    IFNAMSIZ,
    IPV6_DEFAULT_METRIC,
    NAME_MAX,
    RTNH_WEIGHT_MAX,
    SCOPES,
    TABLES,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, NextHop, Route, is_netns_path, marker


# --- validation -----------------------------------------------------------------

def check_netns_name(value, param, create=False):
    """A name of /run/netns/NAME: what ``ip netns add`` accepts (one path component of at most
    255 bytes).  Every such name can be read and removed; a namespace this collection CREATES
    must also be free of control characters (tab, newline...), which no line shows plainly."""
    if value is None:
        return ROOT
    if not isinstance(value, str) or value == '':
        raise TaskError('%s: a namespace name must not be empty' % param)
    if value in ('.', '..'):
        raise TaskError('%s: %r is not a valid namespace name' % (param, value))
    if is_netns_path(value):
        raise TaskError('%s: %s is a path, and %s takes a name: a namespace given by path (a process\'s, a container '
                        'runtime\'s) belongs to whoever holds it, and this collection never creates or removes one'
                        % (param, value, param))
    if '/' in value or '\0' in value:
        raise TaskError('%s: namespace name %r must not contain "/" or NUL' % (param, value))
    size = len(value.encode('utf-8', 'surrogateescape'))
    if size > NAME_MAX:
        raise TaskError('%s: namespace name is %d bytes long; the filesystem allows %d' % (param, size, NAME_MAX))
    if create and not all(c.isprintable() or c == ' ' for c in value):
        raise TaskError('%s: namespace name %r contains a control or invisible character (tab, newline...): such a '
                        'namespace can be read and removed, but this collection does not create one' % (param, value))
    return value


# Linux's PATH_MAX, the longest path a system call takes (NUL included).
PATH_MAX = 4096


def check_netns_ref(value, param):
    """A namespace to read or act in, never to create: a name under /run/netns, or an absolute
    path to a network namespace file (/proc/PID/ns/net, a container runtime's bind mount).
    A name holds no "/", so a leading one makes a path."""
    if not is_netns_path(value):
        return check_netns_name(value, param)
    if '\0' in value:
        raise TaskError('%s: path %r must not contain NUL' % (param, value))
    size = len(value.encode('utf-8', 'surrogateescape'))
    if size >= PATH_MAX:
        raise TaskError('%s: path is %d bytes long; Linux allows %d' % (param, size, PATH_MAX - 1))
    return value


# The owner in a marker: one word that fits in an interface alias with the marker's text.
OWNER_MAX = IFALIASZ - 1 - len(marker(''))
_OWNER_CHARS = frozenset(string.ascii_letters + string.digits + '._-')


def check_owner(value, param):
    """The scope name a management marker carries (see _model.marker)."""
    if not isinstance(value, str) or value == '':
        raise TaskError('%s: the owner must not be empty' % param)
    bad = sorted(set(value) - _OWNER_CHARS)
    if bad:
        raise TaskError('%s: owner %r may hold only letters, digits, ".", "_" and "-" (not %s)'
                        % (param, value, ' '.join(repr(c) for c in bad)))
    if len(value) > OWNER_MAX:
        raise TaskError('%s: owner is %d characters long; the interface alias that carries it allows %d'
                        % (param, len(value), OWNER_MAX))
    return value


def check_ifname(value, param):
    if not isinstance(value, str) or value == '':
        raise TaskError('%s: an interface name must not be empty' % param)
    size = len(value.encode('utf-8'))
    if size >= IFNAMSIZ:
        raise TaskError('%s: interface name %r is %d bytes long; Linux allows at most %d'
                        % (param, value, size, IFNAMSIZ - 1))
    # The kernel's isspace() reads each byte as Latin-1, where 0xA0 is a space: it
    # refuses any name whose UTF-8 holds that byte (U+00E0, U+0420, ...) with EINVAL.
    if (value in ('.', '..') or any(c in '/:' or c.isspace() or c == '\0' for c in value)
            or b'\xa0' in value.encode('utf-8')):
        raise TaskError('%s: interface name %r must not be "." or "..", nor contain "/", ":" or whitespace'
                        % (param, value))
    return value


# The kernel's own bound: dev->mtu is an int.  Links report their real range
# (IFLA_MIN_MTU/IFLA_MAX_MTU) and the planner checks it; lo reports none and
# defaults to 65536, so no Ethernet-sized upper bound here.
MTU_MAX = 2 ** 31 - 1


def check_mtu(value, param, low=68, high=MTU_MAX):
    if value is None:
        return None
    if not low <= value <= high:
        raise TaskError('%s: mtu %d is out of range (%d to %d)' % (param, value, low, high))
    return value


def parse_cidr(value, param):
    """An address with its prefix length, like ``ip addr add`` takes."""
    text = str(value).strip()
    if '%' in text:
        # Python's ipaddress takes fe80::1%eth0/64; an address belongs to its dev and has no zone id.
        raise TaskError('%s: %r has a zone id; an address takes none (its link is dev)' % (param, value))
    if '/' not in text:
        raise TaskError('%s: %r is not in CIDR notation (address/prefix length, e.g. 198.51.100.10/24)'
                        % (param, value))
    try:
        return ipaddress.ip_interface(text)
    except ValueError as exc:
        raise TaskError('%s: %r is not a valid address in CIDR notation: %s' % (param, value, exc))


def parse_ip(value, param):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise TaskError('%s: %r is not an IP address' % (param, value))


def parse_destination(value, param, family=None):
    """'default', or a network in CIDR notation (host bits must be zero)."""
    text = str(value).strip()
    if text == 'default':
        return ipaddress.ip_network('::/0' if family == 6 else '0.0.0.0/0')
    if '%' in text:
        raise TaskError('%s: %r has a zone id; a destination takes none (give the device as dev)' % (param, value))
    if '/' not in text:
        # A bare address is a host route, as in ip(8).
        text += '/128' if ':' in text else '/32'
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        raise TaskError('%s: %r is not "default" nor a network in CIDR notation: %s' % (param, value, exc))


def parse_table(value, param):
    if value is None:
        return TABLES['main']
    if isinstance(value, str) and value in TABLES:
        table = TABLES[value]
    else:
        try:
            table = int(value)
        except (TypeError, ValueError):
            raise TaskError('%s: %r is not a routing table (main, default, or a number)' % (param, value))
    if table == TABLES['local']:
        raise TaskError('%s: the local table belongs to the kernel and is not managed' % param)
    if not 1 <= table < 2 ** 32:
        raise TaskError('%s: table %r is out of range' % (param, value))
    return table


def parse_gateway(value, param):
    """A next hop: (address, device or None).

    A zone id (``fe80::1%eth0``) names the device of a link-local IPv6 gateway, as
    ``dev`` does; ip(8) takes no zone id, so it is turned into the device here.
    """
    text = str(value).strip()
    zone = None
    if '%' in text:
        text, zone = text.split('%', 1)
    gateway = parse_ip(text, param) if zone is None else _parse_zoned(text, zone, value, param)
    if (gateway.is_multicast or gateway.is_unspecified or gateway.is_loopback
            or gateway == ipaddress.ip_address('255.255.255.255')):
        raise TaskError('%s: %s cannot be a next hop: a gateway is the unicast address of a router '
                        '(not multicast, broadcast, loopback or unspecified)' % (param, gateway))
    return gateway, zone


def _parse_zoned(text, zone, value, param):
    gateway = parse_ip(text, param)
    if gateway.version != 6 or not gateway.is_link_local:
        raise TaskError('%s: %r has a zone id, which only a link-local IPv6 address takes' % (param, value))
    check_ifname(zone, param)
    return gateway


def _next_hop(gateway_value, dev_value, param_gateway, param_dev):
    """(gateway, dev) of one next hop; a zone id and dev must name the same device."""
    gateway, zone = parse_gateway(gateway_value, param_gateway) if gateway_value else (None, None)
    dev = check_ifname(dev_value, param_dev) if dev_value else None
    if zone and dev and zone != dev:
        raise TaskError('%s: the zone id of %s names %s but dev is %s' % (param_gateway, gateway_value, zone, dev))
    return gateway, dev or zone


def _nexthops(items, param):
    """The paths of a multipath route (RTA_MULTIPATH)."""
    hops = []
    for index, item in enumerate(items):
        where = '%s[%d].' % (param, index)
        gateway, dev = _next_hop(item.get('gateway'), item.get('dev'), where + 'gateway', where + 'dev')
        weight = item.get('weight')
        weight = 1 if weight is None else weight
        if gateway is None and dev is None:
            raise TaskError('%sgateway: a nexthop needs a gateway, a dev, or both' % where)
        if not 1 <= weight <= RTNH_WEIGHT_MAX:
            raise TaskError('%sweight: %d is out of range (1 to %d)' % (where, weight, RTNH_WEIGHT_MAX))
        _check_next_hop(gateway, dev, bool(item.get('onlink')), where)
        hops.append(NextHop(gateway, dev, weight, bool(item.get('onlink'))))
    return tuple(hops)


def _check_next_hop(gateway, dev, onlink, where):
    if onlink and dev is None:
        raise TaskError('%sonlink: onlink needs dev (the kernel requires a nexthop device)' % where)
    if gateway is not None and gateway.version == 6 and gateway.is_link_local and dev is None:
        raise TaskError('%sgateway: link-local gateway %s needs dev (or a zone id: %s%%DEV)'
                        % (where, gateway, gateway))


def build_route(params, prefix='', present=True):
    """A Route from module-style parameters (dst, gateway, dev, nexthops, type, family, metric, table,
    scope, onlink), normalised as the kernel stores it, so that what is read back compares equal.

    A route to remove (``present=False``) is a pattern: found by dst, table and metric, and by
    what else is given (gateway, dev, nexthops, type); it needs no next hop.
    """
    def p(name):  # the parameter's name as the user wrote it, for messages
        return prefix + name

    route_type = params.get('type') or ('unicast' if present else None)
    nexthops = _nexthops(params.get('nexthops') or (), p('nexthops'))
    if nexthops and (params.get('gateway') or params.get('dev') or params.get('onlink')):
        raise TaskError('%s: nexthops and gateway, dev or onlink are mutually exclusive: put them in each nexthop'
                        % p('nexthops'))
    gateway, dev = _next_hop(params.get('gateway'), params.get('dev'), p('gateway'), p('dev'))
    onlink = bool(params.get('onlink'))
    dst = parse_destination(params['dst'], p('dst'), _family(params, gateway, nexthops, p))
    if params.get('family') and params['family'] != 'ipv%d' % dst.version:
        raise TaskError('%s: %s, but dst %s is IPv%d' % (p('family'), params['family'], dst, dst.version))
    for hop_gateway, param in [(gateway, p('gateway'))] + [(h.gateway, p('nexthops')) for h in nexthops]:
        if hop_gateway is not None and hop_gateway.version != dst.version:
            raise TaskError('%s: gateway %s is IPv%d but dst %s is IPv%d'
                            % (param, hop_gateway, hop_gateway.version, dst, dst.version))
    if route_type not in ('unicast', None) and (gateway or dev or nexthops or onlink):
        raise TaskError('%s: a %s route has no next hop: drop gateway, dev, nexthops and onlink'
                        % (p('type'), route_type))
    if present and route_type == 'unicast' and gateway is None and dev is None and not nexthops:
        raise TaskError('%s: a route needs a gateway, a dev, or both (or nexthops)' % p('gateway'))
    _check_next_hop(gateway, dev, onlink, prefix)
    if dst.version == 4 and any(hop_onlink and hop_gateway is None for hop_gateway, hop_onlink
                                in [(gateway, onlink)] + [(h.gateway, h.onlink) for h in nexthops]):
        raise TaskError('%s: onlink says the gateway is on the link; an IPv4 next hop without gateway cannot have it '
                        '(the kernel refuses it)' % p('onlink'))
    if dst.version == 6 and any(h.gateway is None for h in nexthops):
        raise TaskError('%s: IPv6 multipath routes need a gateway in each nexthop (the kernel refuses device-only '
                        'ones)' % p('nexthops'))
    if len(nexthops) == 1:
        # The kernel stores a one-path multipath route as a plain one (and forgets its weight).
        gateway, dev, onlink, nexthops = nexthops[0].gateway, nexthops[0].dev, nexthops[0].onlink, ()
    route = Route(dst=dst, gateway=gateway, dev=dev, metric=_metric(params.get('metric'), dst, p('metric')),
                  table=parse_table(params.get('table'), p('table')),
                  scope=_scope(params.get('scope'), dst, gateway is not None or bool(nexthops), route_type, p),
                  onlink=onlink, type=route_type, nexthops=nexthops)
    repeated = route.repeated_path()
    if repeated:
        # Two without dev are one path too: the kernel gives both the device the gateway's lookup gives.
        first, again = repeated
        hop = nexthops[again]
        raise TaskError('%s[%d]: gateway %s%s is the path of %s[%d] again; %s'
                        % (p('nexthops'), again, hop.gateway, ' dev %s' % hop.dev if hop.dev else '',
                           p('nexthops'), first, Route.REPEATED_PATH_HINT))
    return route


def _family(params, gateway, nexthops, p):
    """The family a gateway implies (dst default via an IPv6 gateway is ::/0), else the one given."""
    families = {g.version for g in [gateway] + [h.gateway for h in nexthops] if g is not None}
    if len(families) > 1:
        raise TaskError('%s: the nexthops mix IPv4 and IPv6 gateways' % p('nexthops'))
    family = params.get('family')
    family = int(family[-1]) if family in ('ipv4', 'ipv6') else None
    if families and family not in (None,) + tuple(families):
        raise TaskError('%s: the gateway is IPv%d but family is ipv%d' % (p('family'), families.pop(), family))
    return families.pop() if families else family


def _metric(metric, dst, param):
    if metric is not None and not 0 <= metric < 2 ** 32:
        raise TaskError('%s: metric %d is out of range' % (param, metric))
    if dst.version == 6 and not metric:
        return IPV6_DEFAULT_METRIC   # inet6_rtm_newroute: metric 0 is stored as 1024
    return metric or 0


def _scope(scope, dst, via_gateway, route_type, p):
    if dst.version == 6:
        return SCOPES['universe']   # IPv6 routes have no scope (the kernel reports universe)
    if scope is None:
        # ip(8)'s choice: a unicast route without gateway is on-link (scope link).
        return SCOPES['link'] if route_type in ('unicast', None) and not via_gateway else SCOPES['universe']
    if via_gateway and SCOPES[scope] >= SCOPES['link']:
        raise TaskError('%s: a route via a gateway cannot have scope %s: the kernel looks for the gateway in a '
                        'narrower scope and finds none (ENETUNREACH)' % (p('scope'), scope))
    return SCOPES[scope]


def check_unique_routes(routes, param):
    """Two declared routes with one key: the kernel keeps one of them (or refuses the second)."""
    seen = {}
    for index, route in enumerate(routes):
        first = seen.setdefault(route.key, index)
        if first != index:
            raise TaskError('%s[%d]: %s has the destination, table and metric of %s[%d] (%s); the kernel keeps one '
                            'route per destination, table and metric: declare one of them'
                            % (param, index, route.render(), param, first, routes[first].render()))


def check_ipvlan(params, netns_param='netns', prefix=''):
    """Validate one ipvlan's parameters: (slave namespace, IpvlanSpec keyword arguments)."""
    name = check_ifname(params['name'], prefix + 'name')
    netns = check_netns_ref(params.get(netns_param), prefix + netns_param)
    master_netns = check_netns_ref(params.get('master_netns'), prefix + 'master_netns')
    master = params.get('master')
    if master is not None:
        check_ifname(master, prefix + 'master')
        if master == name and master_netns == netns:
            raise TaskError('%smaster: an ipvlan cannot be its own master (%s)' % (prefix, name))
    admin = params.get('admin_state')
    return netns, dict(
        name=name, master=master or '', master_netns=master_netns,
        mode=params['mode'], flags=params['flags'],
        mtu=check_mtu(params.get('mtu'), prefix + 'mtu'),
        up=None if admin is None else admin == 'up',
    )
