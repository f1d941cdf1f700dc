# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: plays that race each other start each linuxnet.ipvlan task together.

Enabled by tests/integration/test_races.py (ANSIBLE_CALLBACKS_ENABLED) with the environment
variables below. Before each task of the collection (the N-th such task of the play is round N),
each party writes ``<dir>/<N>.<party>`` and waits until all parties have written theirs; after the
task it writes ``<dir>/<N>.<party>.end``. The files hold time.monotonic() values, from which the
test measures how much the parties' tasks overlapped. Not part of the collection.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: linuxnet_test_barrier
type: aggregate
short_description: Start the collection's tasks of racing plays together (test harness only)
description:
  - Before each linuxnet.ipvlan task, waits until every party of the race reached the same task.
requirements:
  - The E(LINUXNET_TEST_BARRIER), E(LINUXNET_TEST_PARTY) and E(LINUXNET_TEST_PARTIES) environment variables.
"""

# The protocol lives beside the tests (race_barrier.py), which import it without this plugin.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from race_barrier import COLLECTION_PREFIX, DIR_ENV, PARTIES_ENV, PARTY_ENV, arrive, depart  # noqa: E402  pylint: disable=wrong-import-position,import-error


class CallbackModule(CallbackBase):
    """The barrier."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "linuxnet_test_barrier"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        directory = os.environ.get(DIR_ENV)
        self._dir = Path(directory) if directory else None
        self._party = os.environ.get(PARTY_ENV, "")
        self._parties = int(os.environ.get(PARTIES_ENV, "0"))
        self._round = -1

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._dir is not None and task.action.startswith(COLLECTION_PREFIX):
            self._round += 1
            arrive(self._dir, self._round, self._party, self._parties)

    def _ended(self, result, *_args, **_kwargs):
        task = getattr(result, "task", None) or result._task  # pylint: disable=protected-access
        if self._dir is not None and task.action.startswith(COLLECTION_PREFIX):
            depart(self._dir, self._round, self._party)

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = _ended
