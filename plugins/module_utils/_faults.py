# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault-injection points for the tests; inert unless their environment variable is set.

LINUXNET_IPVLAN_TEST_KILL_AT=<point>: the module sends itself SIGKILL at <point> and dies
there exactly as if killed from outside (no cleanup, no finally block runs).
LINUXNET_IPVLAN_TEST_STOP_AT=<point>: it stops itself there (SIGSTOP) until the test that
races it sends SIGCONT.  The points:

    action N        before the N-th action it applies (0-based, counted over all passes)
    verify N        after the N-th pass of actions (1-based), before the re-read that verifies it
    run-dir-bound, netns-file, netns-unshared, netns-mounted
                    the steps of namespace creation (_netns.py)

Used by tests/integration/test_faults.py, test_races.py and test_netns.py; nothing else sets
the variables.
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = 'LINUXNET_IPVLAN_TEST_KILL_AT'
STOP_AT_ENV = 'LINUXNET_IPVLAN_TEST_STOP_AT'


def fault_point(point):
    for variable, sig in ((KILL_AT_ENV, signal.SIGKILL), (STOP_AT_ENV, signal.SIGSTOP)):
        if os.environ.get(variable) == point:
            os.kill(os.getpid(), sig)
