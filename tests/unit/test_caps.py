# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Capabilities: CapEff parsing, the one line a missing one gives, which action needs which.
(test_errors.py holds the doc fragment, the messages and the README to one text: PRIVILEGES.)

The real thing (a module run without CAP_NET_ADMIN or CAP_SYS_ADMIN) is
tests/integration/test_privileges.py.
"""

from __future__ import annotations

import errno
import ipaddress

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    AddAddress,
    CreateNetns,
    DeleteNetns,
    SetLink,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._caps import (
    CAP_NET_ADMIN,
    CAP_SYS_ADMIN,
    NEEDED_FOR,
    check_plan,
    effective,
    first_missing,
    missing,
    require,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import PRIVILEGES, TaskError, explain
ALL = (1 << 41) - 1
NO_NET_ADMIN = ALL & ~(1 << CAP_NET_ADMIN)
NO_SYS_ADMIN = ALL & ~(1 << CAP_SYS_ADMIN)

STATUS = 'Name:\tpython3\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffefffff\n'


def test_effective_reads_capeff() -> None:
    assert effective(STATUS) == 0x1ffffefffff
    assert not effective(STATUS) & (1 << 20)


def test_effective_unknown_counts_as_everything() -> None:
    assert effective('Name:\tx\n') == -1


def test_effective_of_this_process_is_a_number() -> None:
    assert effective() >= 0


def test_missing_is_one_actionable_line() -> None:
    line = missing(CAP_SYS_ADMIN, 'create namespace ns0', NO_SYS_ADMIN)
    assert line == ('create namespace ns0 needs CAP_SYS_ADMIN (creating, removing and entering named network '
                    'namespaces), which this process lacks: run the task as root (become: true) or grant '
                    'CAP_SYS_ADMIN')
    assert '\n' not in line
    assert missing(CAP_SYS_ADMIN, 'create namespace ns0', NO_NET_ADMIN) is None


def test_require_raises_a_task_error_naming_the_capability() -> None:
    with pytest.raises(TaskError) as exc:
        require(CAP_NET_ADMIN, 'set lo up', NO_NET_ADMIN)
    assert exc.value.details == {'capability': 'CAP_NET_ADMIN'}
    require(CAP_NET_ADMIN, 'set lo up', NO_SYS_ADMIN)


ADD = AddAddress('ns0', dev='lo', ip=ipaddress.ip_interface('192.0.2.1/24'))


@pytest.mark.parametrize('action, capability', [
    (CreateNetns('ns0'), CAP_SYS_ADMIN), (CreateNetns('ns0', repair='leftover file'), CAP_SYS_ADMIN),
    (DeleteNetns('ns0'), CAP_SYS_ADMIN), (SetLink('ns0', name='lo', up=True), CAP_NET_ADMIN), (ADD, CAP_NET_ADMIN),
])
def test_each_action_names_its_capability(action, capability: int) -> None:
    assert action.capability == capability


def test_check_plan_fails_on_the_first_action_lacking_its_capability() -> None:
    actions = [CreateNetns('ns0'), SetLink('ns0', name='lo', up=True)]
    check_plan(actions, ALL)
    with pytest.raises(TaskError, match=r'^set lo in namespace ns0 up needs CAP_NET_ADMIN'):
        check_plan(actions, NO_NET_ADMIN)
    with pytest.raises(TaskError, match=r'^create namespace ns0 needs CAP_SYS_ADMIN'):
        check_plan(actions, NO_SYS_ADMIN)
    assert first_missing(actions, ALL) is None
    assert first_missing(actions, NO_NET_ADMIN) == missing(CAP_NET_ADMIN, 'set lo in namespace ns0 up', NO_NET_ADMIN)


@pytest.mark.parametrize('action, capability', [(CreateNetns('ns0'), 'CAP_SYS_ADMIN'), (ADD, 'CAP_NET_ADMIN')])
def test_eperm_from_the_kernel_names_the_actions_capability(action, capability: str) -> None:
    msg = explain(OSError(errno.EPERM, 'Operation not permitted'), action).msg
    assert msg.startswith(action.describe() + ' failed: permission denied')
    assert msg.endswith('it needs %s: run as root (become: true) or grant %s [errno 1]' % (capability, capability))


def test_privileges_say_what_each_capability_is_for() -> None:
    for capability, name in ((CAP_NET_ADMIN, 'CAP_NET_ADMIN'), (CAP_SYS_ADMIN, 'CAP_SYS_ADMIN')):
        assert '%s (%s)' % (name, NEEDED_FOR[capability]) in PRIVILEGES
