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

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    IFNAMSIZ,
    IPV6_DEFAULT_METRIC,
    NAME_MAX,
    SCOPES,
    TABLES,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, Route

# --- validation -----------------------------------------------------------------

def check_netns_name(value, param):
    """A name usable as /run/netns/NAME by us and by ``ip netns``."""
    if value is None:
        return ROOT
    if not isinstance(value, str) or value == '':
        raise TaskError('%s: a namespace name must not be empty' % param)
    if value in ('.', '..'):
        raise TaskError('%s: %r is not a valid namespace name' % (param, value))
    bad = [c for c in value if c == '/' or c == '\0' or c.isspace()]
    if bad:
        raise TaskError('%s: namespace name %r must not contain "/", NUL or whitespace' % (param, value))
    if len(value.encode('utf-8')) > NAME_MAX:
        raise TaskError('%s: namespace name is %d bytes long; the filesystem allows %d'
                        % (param, len(value.encode('utf-8')), NAME_MAX))
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


def build_route(params, prefix='', present=True):
    """A Route from module-style parameters (dst, gateway, dev, family, metric, table, scope, onlink).

    A route to remove (``present=False``) is found by dst, table and metric: it needs no next hop.
    """
    def p(name):  # the parameter's name as the user wrote it, for messages
        return prefix + name

    gateway = parse_ip(params['gateway'], p('gateway')) if params.get('gateway') else None
    family = gateway.version if gateway is not None else params.get('family')
    if family in ('ipv4', 'ipv6'):
        family = int(family[-1])
    dst = parse_destination(params['dst'], p('dst'), family)
    if gateway is not None and gateway.version != dst.version:
        raise TaskError('%s: gateway %s is IPv%d but dst %s is IPv%d'
                        % (p('gateway'), gateway, gateway.version, dst, dst.version))
    dev = check_ifname(params['dev'], p('dev')) if params.get('dev') else None
    if present and gateway is None and dev is None:
        raise TaskError('%s: a route needs a gateway, a dev, or both' % p('gateway'))
    if params.get('onlink') and dev is None:
        raise TaskError('%s: onlink needs dev (the kernel requires a nexthop device)' % p('onlink'))
    if gateway is not None and gateway.version == 6 and gateway.is_link_local and dev is None:
        raise TaskError('%s: link-local gateway %s needs dev' % (p('gateway'), gateway))
    metric = params.get('metric')
    if metric is None:
        metric = IPV6_DEFAULT_METRIC if dst.version == 6 else 0
    elif not 0 <= metric < 2 ** 32:
        raise TaskError('%s: metric %d is out of range' % (p('metric'), metric))
    scope = params.get('scope')
    if scope is None:
        # ip(8)'s choice: a route without gateway is on-link (scope link).
        scope = 'universe' if gateway is not None or dst.version == 6 else 'link'
    if dst.version == 6:
        scope = 'universe'  # IPv6 routes have no scope
    route = Route(dst=dst, gateway=gateway, dev=dev, metric=metric,
                  table=parse_table(params.get('table'), p('table')),
                  scope=SCOPES[scope], onlink=bool(params.get('onlink')))
    return route


def check_ipvlan(params, netns_param='netns', prefix=''):
    """Validate one ipvlan's parameters: (slave namespace, IpvlanSpec keyword arguments)."""
    name = check_ifname(params['name'], prefix + 'name')
    netns = check_netns_name(params.get(netns_param), prefix + netns_param)
    master_netns = check_netns_name(params.get('master_netns'), prefix + 'master_netns')
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
