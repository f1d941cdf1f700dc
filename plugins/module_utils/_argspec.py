# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument-spec pieces shared by the modules (and the topology module's suboptions), and
new_module(): the modules' AnsibleModule, which refuses what Ansible's own checks let through."""

from __future__ import annotations

import re

from ansible.module_utils import basic

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


def new_module(**kwargs):
    """AnsibleModule(**kwargs), after refusing the values Ansible would quietly change.

    Ansible's checks turn anything given to a str option into a string (YAML reads an
    unquoted no as the boolean false, which would name a namespace 'False'; a list would
    name it "['a']"), take a boolean as the integer 0 or 1, read '1e3' as 1000 since
    ansible-core 2.19 (2.16 refuses it), and refuse a string given for a list of mappings
    without naming the option.  The raw parameters are checked first, against the spec.
    """
    spec = kwargs['argument_spec']
    problem = _surprise(spec, basic._load_params() or {}, '')  # pylint: disable=protected-access
    if problem:
        # A module that takes every option as it is, to fail with our message.
        bare = basic.AnsibleModule(argument_spec={name: dict(type='raw') for name in spec},
                                   supports_check_mode=True)
        bare.fail_json(msg=problem, changed=False)
    return basic.AnsibleModule(**kwargs)


_WHOLE = re.compile(r'^\s*[-+]?[0-9]+\s*$')


def _surprise(spec, params, prefix):
    """The first raw value in PARAMS that SPEC's type would silently change, as a message."""
    for name, option in spec.items():
        value = params.get(name) if isinstance(params, dict) else None
        if value is None:
            continue
        where = prefix + name
        kind = option.get('type', 'str')
        if kind == 'list' and option.get('options'):
            if not isinstance(value, list):
                return '%s: expected a list of mappings, got %s' % (where, _described(value))
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    return '%s[%d]: expected a mapping, got %s' % (where, index, _described(item))
                found = _surprise(option['options'], item, '%s[%d].' % (where, index))
                if found:
                    return found
        elif kind == 'list' and isinstance(value, list):
            for item in value:
                found = _scalar(option.get('elements'), item, where)
                if found:
                    return found
        else:
            found = _scalar(kind, value, where)
            if found:
                return found
    return None


def _scalar(kind, value, where):
    if value is None:
        return None
    if kind == 'str' and (isinstance(value, bool) or not isinstance(value, (str, int))):
        return '%s: expected a string, got %s' % (where, _described(value))
    if kind == 'int' and (isinstance(value, bool) or not isinstance(value, int)) \
            and not (isinstance(value, str) and _WHOLE.match(value)):
        return '%s: expected a whole number, got %s' % (where, _described(value))
    return None


def _described(value):
    if isinstance(value, bool):
        return ('the boolean %s (YAML reads unquoted yes, no, true, false, on and off as booleans: quote it)'
                % value)
    if isinstance(value, float):
        return 'the number %r (YAML reads 1.10 as the number 1.1: quote it)' % value
    if isinstance(value, dict):
        return 'a mapping'
    if isinstance(value, list):
        return 'a list'
    return repr(value)
