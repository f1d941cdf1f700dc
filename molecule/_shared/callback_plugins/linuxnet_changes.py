# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: which tasks each Molecule playbook run changed, for the check-mode comparison.

Every scenario enables it (molecule.yml: ANSIBLE_CALLBACK_PLUGINS and callbacks_enabled). At the
end of each ansible-playbook run it appends one JSON line to
$MOLECULE_EPHEMERAL_DIRECTORY/task-changes.jsonl:
  {"playbook": "converge.yml", "check": true, "start": t,
   "tasks": [{"host", "task", "item", "status", "changed"}, ...]}
one entry per host and task, and per loop item of a loop task (item = its label, null for the
task itself). molecule/_shared/check_mode.yml, imported first by every verify.yml, compares the
check step's converge run with the converge run that follows it.
Not part of the collection (it lives outside plugins/ and is never shipped).
"""

from __future__ import annotations

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: linuxnet_changes
type: aggregate
short_description: Record per task and host whether it changed (Molecule check-mode comparison)
description:
  - Appends one JSON line per playbook run to C(task-changes.jsonl) in E(MOLECULE_EPHEMERAL_DIRECTORY)
    with the playbook's file name, whether it ran in check mode, and every task result (host, task,
    loop item, status, changed).
requirements:
  - The E(MOLECULE_EPHEMERAL_DIRECTORY) environment variable (set by Molecule).
"""

LOG_NAME = "task-changes.jsonl"


def _parts(result):
    # ansible-core 2.19 has public task/host/result properties; the underscored ones are older.
    task = getattr(result, "task", None) or result._task
    host = getattr(result, "host", None) or result._host
    data = getattr(result, "result", None)
    if data is None:
        data = result._result
    return task, host, data


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "linuxnet_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        directory = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
        self._log = os.path.join(directory, LOG_NAME) if directory else None
        self._playbook = None
        self._start = None
        self._tasks = []

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)
        self._start = time.time()

    def _record(self, result, status, item=False):
        task, host, data = _parts(result)
        label = data.get("_ansible_item_label", data.get(data.get("ansible_loop_var") or "item")) if item else None
        self._tasks.append({
            "host": host.get_name(),
            # file:line tells apart two tasks of one name (a role applied twice, an imported file).
            "task": "%s (%s)" % (task.get_name(), os.path.basename(task.get_path() or "")),
            "item": None if label is None else json.dumps(label, sort_keys=True, default=str),
            "status": status,
            "changed": bool(data.get("changed")),
        })

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self._record(result, "ok", item=True)

    def v2_runner_item_on_failed(self, result):
        self._record(result, "failed", item=True)

    def v2_runner_item_on_skipped(self, result):
        self._record(result, "skipped", item=True)

    def v2_playbook_on_stats(self, stats):
        if not self._log:
            return
        entry = {
            "playbook": self._playbook,
            "check": bool(context.CLIARGS.get("check")),
            "start": self._start,
            "tasks": self._tasks,
        }
        with open(self._log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
