# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument-spec pieces shared by the modules (and the topology module's suboptions)."""

from __future__ import annotations

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import (
    IPVLAN_FLAGS,
    IPVLAN_MODES,
    MANAGED_RTN_TYPES,
)

NETNS = dict(netns=dict(type='str'))


def route_options():
    return dict(
        dst=dict(type='str', required=True),
        type=dict(type='str', choices=list(MANAGED_RTN_TYPES)),
        gateway=dict(type='str'),
        dev=dict(type='str'),
        nexthops=dict(type='list', elements='dict', options=dict(
            gateway=dict(type='str'),
            dev=dict(type='str'),
            weight=dict(type='int', default=1),
            onlink=dict(type='bool', default=False),
        )),
        family=dict(type='str', choices=['ipv4', 'ipv6']),
        metric=dict(type='int'),
        table=dict(type='str'),
        scope=dict(type='str', choices=['universe', 'link', 'host']),
        onlink=dict(type='bool', default=False),
    )


# A multipath route carries its next hops in nexthops, not in gateway and dev.
ROUTE_EXCLUSIVE = [('nexthops', 'gateway'), ('nexthops', 'dev')]


def ipvlan_options():
    """What describes one ipvlan slave, in the ipvlan module and in topology."""
    return dict(
        name=dict(type='str', required=True),
        master=dict(type='str'),
        master_netns=dict(type='str'),
        mode=dict(type='str', choices=list(IPVLAN_MODES), default='l3'),
        flags=dict(type='str', choices=list(IPVLAN_FLAGS), default='bridge'),
        mtu=dict(type='int'),
        admin_state=dict(type='str', choices=['up', 'down']),
    )


def admin_up(value):
    return None if value is None else value == 'up'
