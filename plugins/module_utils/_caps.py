# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which capability each kind of change needs, checked before acting.

A process without the capability would get EPERM from the kernel half-way
through a plan; reading CapEff first turns that into one line naming what is
missing and what needs it.  Pure but for reading /proc/self/status.
"""

from __future__ import annotations

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import NEEDED_FOR, TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import CAP_NAMES, CAP_NET_ADMIN, CAP_SYS_ADMIN

__all__ = ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'NEEDED_FOR', 'check_plan', 'effective', 'first_missing', 'missing', 'require']


def effective(status_text=None):
    """The effective capability set (CapEff) of this process, as a bit mask.

    Unknown (no /proc, no CapEff line) counts as everything: the kernel still decides.
    """
    if status_text is None:
        try:
            with open('/proc/self/status') as status:
                status_text = status.read()
        except OSError:
            return -1
    for line in status_text.splitlines():
        if line.startswith('CapEff:'):
            return int(line.split(':', 1)[1].strip(), 16)
    return -1


def missing(capability, doing, caps=None):
    """One actionable line when CAPABILITY is not effective, else None."""
    caps = effective() if caps is None else caps
    if caps & (1 << capability):
        return None
    name = CAP_NAMES[capability]
    return ('%s needs %s (%s), which this process lacks: run the task as root (become: true) '
            'or grant %s' % (doing, name, NEEDED_FOR[capability], name))


def require(capability, doing, caps=None):
    """Raise a TaskError naming CAPABILITY when the process lacks it."""
    line = missing(capability, doing, caps)
    if line:
        raise TaskError(line, capability=CAP_NAMES[capability])


def first_missing(actions, caps=None):
    """The line for the first of ACTIONS whose capability is missing, or None (check mode warns with it)."""
    caps = effective() if caps is None else caps
    for action in actions:
        line = missing(action.capability, action.describe(), caps)
        if line:
            return line
    return None


def check_plan(actions, caps=None):
    """Before applying ACTIONS: fail on the first one whose capability is missing."""
    caps = effective() if caps is None else caps
    for action in actions:
        require(action.capability, action.describe(), caps)
