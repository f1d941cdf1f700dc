# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""errors.explain: a failed action's errno in the user's terms, naming the object."""

from __future__ import annotations

import errno
import ipaddress
import typing as t
from pathlib import Path

import pytest
import yaml

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    Action,
    AddAddress,
    AddRoute,
    CreateIpvlan,
    CreateNetns,
    SetLink,
)
from ansible_collections.linuxnet.ipvlan.plugins.doc_fragments._pyroute2 import ModuleDocFragment
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import NO_IPVLAN_SUPPORT, PRIVILEGES, TaskError, explain
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Route
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import HAS_PYROUTE2, NetlinkError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import PERMISSION_MSG

CREATE = CreateIpvlan('ns0', name='ipvl0', master='eth0', master_index=2, mode='l2', flags='bridge')
ROUTE = AddRoute('ns0', route=Route(ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_address('203.0.113.1')))
ADDRESS = AddAddress('ns0', dev='ipvl0', ip=ipaddress.ip_interface('198.51.100.11/24'))
needs_pyroute2 = pytest.mark.skipif(not HAS_PYROUTE2, reason='the NetlinkError of pyroute2 is needed')


def netlink_error(code: int, text: str) -> Exception:
    """What pyroute2 raises: the errno in .code and the kernel's extack text as the second argument."""
    return NetlinkError(code, text)


@pytest.mark.parametrize('make_exc', [
    pytest.param(lambda: OSError(errno.EOPNOTSUPP, 'Operation not supported'), id='oserror'),
    pytest.param(lambda: netlink_error(errno.EOPNOTSUPP, 'Unknown device type'), id='netlink', marks=needs_pyroute2),
])
def test_no_ipvlan_support(make_exc: t.Callable[[], Exception]) -> None:
    error = explain(make_exc(), CREATE)
    assert isinstance(error, TaskError)
    assert error.msg == ('create ipvlan ipvl0 on eth0 (the root namespace), mode l2 bridge in namespace ns0: '
                         + NO_IPVLAN_SUPPORT)
    assert 'no ipvlan support' in error.msg
    assert error.details == {'errno': 95}


def test_eopnotsupp_elsewhere_is_not_about_ipvlan() -> None:
    error = explain(OSError(errno.EOPNOTSUPP, 'Operation not supported'), SetLink('ns0', name='eth0', mtu=9000))
    assert 'ipvlan' not in error.msg
    assert error.msg == ('set eth0 in namespace ns0 mtu 9000 failed: operation not supported by this kernel or '
                         'device [errno 95]')


REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('code, action, words', [
    (errno.ENETUNREACH, ROUTE, ['add route default via 203.0.113.1 in namespace ns0 failed', 'not reachable',
                                'onlink: true', '[errno 101]']),
    (errno.EPERM, CreateNetns('ns0'), ['create namespace ns0 failed: permission denied', 'root', 'CAP_SYS_ADMIN',
                                       '[errno 1]']),
    (errno.EPERM, CREATE, ['create ipvlan ipvl0', 'root', 'CAP_NET_ADMIN']),
    (errno.EADDRINUSE, ADDRESS, ['add address 198.51.100.11/24 to ipvl0 in namespace ns0 failed',
                                 'another ipvlan slave on the same master', '[errno 98]']),
    (errno.EBUSY, CREATE, ['device busy', 'bridge, bond or macvlan']),
    (errno.ERANGE, CREATE, ['15 bytes']),
], ids=['enetunreach', 'eperm', 'eperm-ipvlan', 'eaddrinuse', 'ebusy', 'erange'])
def test_errno_messages(code: int, action: Action, words: list[str]) -> None:
    error = explain(OSError(code, 'kernel says no'), action)
    assert error.details['errno'] == code
    for word in words:
        assert word in error.msg


def test_unknown_errno_is_named() -> None:
    error = explain(OSError(errno.EMLINK, 'Too many links'), CreateNetns('ns0'))
    assert error.msg == 'create namespace ns0 failed: EMLINK (kernel: Too many links) [errno %d]' % errno.EMLINK


@needs_pyroute2
def test_kernel_text_is_kept_when_it_says_more() -> None:
    error = explain(netlink_error(errno.EEXIST, 'ipv4: Address already assigned.'), ADDRESS)
    assert error.msg == ('add address 198.51.100.11/24 to ipvl0 in namespace ns0 failed: already exists '
                         '(kernel: ipv4: Address already assigned) [errno 17]')


@needs_pyroute2
def test_kernel_text_is_dropped_when_it_says_nothing_more() -> None:
    error = explain(netlink_error(errno.EEXIST, 'Already exists'), ADDRESS)
    assert '(kernel:' not in error.msg


def test_privileges_are_stated_alike_everywhere() -> None:
    """The runtime message, the modules' requirements and the README name the same privileges."""
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)
    assert any(PRIVILEGES in requirement for requirement in fragment['requirements'])
    assert PRIVILEGES in PERMISSION_MSG
    assert PRIVILEGES in ' '.join((REPO_ROOT / 'README.md').read_text(encoding='utf-8').split())
