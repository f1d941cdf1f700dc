# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the facts and info modules share: their options and the data they read.

They differ only in where the data goes: under ansible_facts (facts) or under a
top-level key of the result (info).
"""

from __future__ import annotations

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import new_module
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, is_netns_path
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import check_netns_ref
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import namespace_view
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module

# The key the data lives under, in ansible_facts (facts) and in the result (info).
RESULT_KEY = 'linuxnet_ipvlan'

ARGUMENT_SPEC = dict(
    netns=dict(type='list', elements='str'),
    include_root=dict(type='bool', default=True),
)


def _view(world, name):
    namespace = world.get(name)
    if is_netns_path(name) and namespace.leftover is not None:
        raise TaskError('netns: %s is %s, not a network namespace' % (name, namespace.leftover.what))
    if not namespace.exists:
        return {'exists': False, 'links': {}, 'routes': []}
    return dict(exists=True, **namespace_view(world, namespace))


def gathered(world, params, warn=lambda text: None):
    """The listed namespaces (default: every one, the named ones by name, the others by the path that
    reaches them: see _netns.unnamed_netns) and, with include_root, the root one.

    A name that is not UTF-8 (ip netns add takes any bytes) cannot travel in a result: it is
    left out with a warning, and the rest is read.
    """
    names = params['netns']
    if names is None:
        names = []
        for name in (n for n in world.names() if n is not ROOT):
            try:
                name.encode('utf-8')
            except UnicodeEncodeError:
                warn('namespace %s is left out: its name is not UTF-8, which a result cannot carry '
                     '(ip netns delete removes it)' % ascii(name.encode('utf-8', 'surrogateescape'))[2:-1])
                continue
            names.append(name)
    data = {'namespaces': {name: _view(world, name) for name in names}}
    if params['include_root']:
        data['root'] = _view(world, ROOT)
    return data


def _no_specs(params, world):
    """Reading changes nothing: only the names are checked (a read never creates a namespace)."""
    for name in params['netns'] or []:
        check_netns_ref(name, 'netns')
    return []


def run_gather(wrap):
    """Run a reading module; wrap(data) gives its return values."""
    module = new_module(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, _no_specs, lambda world, params: wrap(gathered(world, params, module.warn)))
