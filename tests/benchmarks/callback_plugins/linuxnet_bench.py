# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Callback of tests/benchmarks/namespaces_role.py: one JSON file per ansible-playbook run.

Enabled only by the benchmark (ANSIBLE_CALLBACK_PLUGINS=tests/benchmarks/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=linuxnet_bench); it writes to $LINUXNET_BENCH_OUT:
  {"playbook_start": t, "playbook_end": t,
   "results": [{"task", "action", "host", "status", "changed", "start", "end", "actions"}, ...],
   "stats": {host: {"ok", "changed", "failures", "skipped", "unreachable", ...}}}
Times are time.time() on the controller; start is when the strategy queued the task for the host
(v2_runner_on_start), end when its result came back, so end - start is the task as the controller
sees it: templating its arguments, the SSH round trip and the module run in the guest.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: linuxnet_bench
type: aggregate
short_description: Task timings and results for the linuxnet.ipvlan benchmark
description:
  - Records, per task and host, the action, status, changed flag and the time from queueing to result,
    and writes them with the play recap to the JSON file named by E(LINUXNET_BENCH_OUT).
requirements:
  - enabled in callbacks_enabled
"""


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
    CALLBACK_NAME = "linuxnet_bench"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._out = os.environ.get("LINUXNET_BENCH_OUT")
        self._starts = {}
        self._results = []
        self._playbook_start = None

    def v2_playbook_on_start(self, playbook):
        self._playbook_start = time.time()

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), task._uuid)] = time.time()

    def _record(self, result, status, resolved=True):
        task, host, data = _parts(result)
        now = time.time()
        name = host.get_name()
        # resolved_action is only reliable in on_ok/on_failed of a task without a loop.
        action = (task.resolved_action if resolved and not task.loop else None) or task.action
        entry = {
            "task": task.get_name(),
            "action": action,
            "host": name,
            "status": status,
            "changed": bool(data.get("changed")),
            "start": self._starts.pop((name, task._uuid), None),
            "end": now,
        }
        if isinstance(data.get("actions"), list):
            entry["actions"] = len(data["actions"])
        if status == "failed":
            entry["msg"] = str(data.get("msg", ""))[:2000]
        self._results.append(entry)

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped", resolved=False)

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable", resolved=False)

    def v2_playbook_on_stats(self, stats):
        if not self._out:
            return
        report = {
            "playbook_start": self._playbook_start,
            "playbook_end": time.time(),
            "results": self._results,
            "stats": {host: stats.summarize(host) for host in sorted(stats.processed)},
        }
        tmp = "%s.tmp%d" % (self._out, os.getpid())
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
        os.replace(tmp, self._out)
