# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""new_module()'s check of raw parameters: what Ansible would quietly change is refused, the rest passes.

The host integration test (tests/integration/bad_inputs.yml) runs these refusals through Ansible;
this pins what must still pass, which a table of bad inputs cannot.
"""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import (  # pylint: disable=protected-access
    _surprise,
    ipvlan_options,
    route_options,
)

SPEC = dict(
    name=dict(type='str'),
    mtu=dict(type='int'),
    addresses=dict(type='list', elements='str'),
    namespaces=dict(type='list', elements='dict', options=dict(
        name=dict(type='str', required=True),
        ipvlans=dict(type='list', elements='dict', options=ipvlan_options()),
        routes=dict(type='list', elements='dict', options=route_options()),
    )),
)


@pytest.mark.parametrize("params", [
    {},
    {"name": None, "mtu": None, "namespaces": None},
    {"name": "ns0", "mtu": 1500, "addresses": ["198.51.100.1/24"]},
    {"name": 100},                       # a number is a fine name: "{{ index }}" renders one
    {"mtu": "1500"}, {"mtu": " 9000 "},  # a template's result, before ansible-core 2.19
    {"addresses": "198.51.100.1/24"},    # Ansible makes a list of a string
    {"namespaces": [{"name": "ns0", "ipvlans": [{"name": "ipvl0", "master": "eth0", "mtu": 1400}],
                     "routes": [{"dst": "default", "metric": 100, "onlink": "yes"}]}]},
])
def test_what_ansible_keeps_as_it_is_passes(params: dict[str, t.Any]) -> None:
    assert _surprise(SPEC, params, '') is None


@pytest.mark.parametrize("params, message", [
    ({"name": False}, "name: expected a string, got the boolean False (YAML"),
    ({"name": 1.1}, "name: expected a string, got the number 1.1"),
    ({"name": ["a"]}, "name: expected a string, got a list"),
    ({"mtu": True}, "mtu: expected a whole number, got the boolean True"),
    ({"mtu": "1e3"}, "mtu: expected a whole number, got '1e3'"),
    ({"mtu": 1500.0}, "mtu: expected a whole number, got the number 1500.0"),
    ({"addresses": ["198.51.100.1/24", True]}, "addresses: expected a string, got the boolean True"),
    ({"namespaces": "ns0"}, "namespaces: expected a list of mappings, got 'ns0'"),
    ({"namespaces": [{"name": "a"}, "b"]}, "namespaces[1]: expected a mapping, got 'b'"),
    ({"namespaces": [{"name": "a", "ipvlans": [{"name": "x", "master": "eth0"}, {"name": "y", "mtu": "big"}]}]},
     "namespaces[0].ipvlans[1].mtu: expected a whole number, got 'big'"),
    ({"namespaces": [{"name": "a", "routes": [{"dst": "default", "metric": True}]}]},
     "namespaces[0].routes[0].metric: expected a whole number"),
])
def test_what_ansible_would_change_is_refused(params: dict[str, t.Any], message: str) -> None:
    assert (_surprise(SPEC, params, '') or '').startswith(message)
