# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Plain-data views of the model: the diff's before/after, facts and return values."""

from __future__ import annotations

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import SCOPE_NAMES, TABLES
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT

ROOT_LABEL = '(root)'
_TABLE_NAMES = {v: k for k, v in TABLES.items()}


def netns_key(name):
    return ROOT_LABEL if name is ROOT else name


def master_name(world, link):
    master = world.master_of(link)
    return master.name if master is not None else None


def link_view(world, link, addresses=None):
    view = {
        'ifindex': link.ifindex,
        'kind': link.kind,
        'state': 'up' if link.up else 'down',
        'mtu': link.mtu,
        'mac': link.mac,
        'alias': link.alias,
        'managed': link.managed,
        'owner': link.owner,
    }
    if link.kind == 'ipvlan':
        view['ipvlan'] = {
            'mode': link.ipvlan_mode,
            'flags': link.ipvlan_flags,
            'master': master_name(world, link),
            'master_ifindex': link.master_index,
            'master_netns': link.master_netns,
        }
    if addresses is not None:
        view['addresses'] = addresses
    return view


def route_view(route):
    return {
        'dst': 'default' if route.dst.prefixlen == 0 else str(route.dst),
        'family': 'ipv%d' % route.family,
        'type': route.type,
        'gateway': _text(route.gateway),
        'dev': route.dev,
        'nexthops': [{'gateway': _text(hop.gateway), 'dev': hop.dev, 'weight': hop.weight, 'onlink': hop.onlink}
                     for hop in route.nexthops],
        'metric': route.metric,
        'table': _TABLE_NAMES.get(route.table, route.table),
        'scope': SCOPE_NAMES.get(route.scope, route.scope),
        'onlink': route.onlink,
        'proto': route.proto,
        'kernel': route.kernel,
        'prefsrc': _text(route.prefsrc),
        'tos': route.tos,
    }


def _text(ip):
    return str(ip) if ip is not None else None


def addresses_of(namespace, dev):
    return sorted((str(a.ip) for a in namespace.addresses_of(dev)), key=_address_order)


def _address_order(text):
    return (':' in text, text)


def task_routes(namespace):
    """The routes a task manages: the kernel's own (an address's prefix route, for one) come and
    go with links and addresses, some with the carrier, so modules show them in facts only."""
    return [r for r in namespace.routes if not r.kernel]


def routes_view(routes):
    return [route_view(r) for r in sorted(routes, key=lambda r: r.render())]


def namespace_view(world, namespace, kernel_routes=True):
    """Everything in one namespace: what the facts module returns per namespace."""
    return {
        'links': {name: link_view(world, link, addresses_of(namespace, name))
                  for name, link in sorted(namespace.links.items())},
        'routes': routes_view(namespace.routes if kernel_routes else task_routes(namespace)),
    }


def diff_view(world, scope):
    """The part of the world a task manages, compact enough to read in --diff."""
    view = {}
    for name in sorted(scope, key=lambda n: (n is not ROOT, n or '')):
        what = scope[name]
        namespace = world.get(name)
        if not namespace.exists:
            view[netns_key(name)] = {'state': 'absent'}
            if namespace.leftover is not None:
                view[netns_key(name)]['leftover'] = namespace.leftover.what
            continue
        entry = {'state': 'present'}
        links = {}
        for link_name in sorted(what.links | what.devs):
            link = namespace.links.get(link_name)
            if link is None:
                continue
            item = {'state': 'up' if link.up else 'down', 'mtu': link.mtu}
            if link.kind == 'ipvlan':
                item.update(kind='ipvlan', mode=link.ipvlan_mode, flags=link.ipvlan_flags,
                            master=master_name(world, link) or link.master_index)
            if link.alias:
                item['alias'] = link.alias
            if link_name in what.devs:
                item['addresses'] = addresses_of(namespace, link_name)
            links[link_name] = item
        if links:
            entry['links'] = links
        if what.routes:
            entry['routes'] = sorted(r.render() for r in task_routes(namespace))
        view[netns_key(name)] = entry
    return view
