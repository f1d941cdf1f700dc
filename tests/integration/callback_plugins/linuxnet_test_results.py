# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: every task result as one JSON line in $LINUXNET_TEST_RESULTS.

Enabled by the host integration-test harness (tests/integration/helpers.py, run_tasks) with
ANSIBLE_CALLBACK_PLUGINS=<this directory> and ANSIBLE_CALLBACKS_ENABLED=linuxnet_test_results.
Not part of the collection (it lives outside plugins/ and is never shipped).
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

DOCUMENTATION = r"""
name: linuxnet_test_results
type: aggregate
short_description: Write every task result as a JSON line (test harness only)
description:
  - Appends one JSON object per task result to the file named by the E(LINUXNET_TEST_RESULTS) environment variable.
  - Each line has the keys C(task), C(action), C(host), C(status) (ok, changed, failed, skipped or unreachable),
    C(ignore_errors) and C(result) (the module's return values, including C(diff), C(warnings) and C(exception)).
requirements:
  - The E(LINUXNET_TEST_RESULTS) environment variable.
"""

ENV_VAR = "LINUXNET_TEST_RESULTS"


def _plain(value):
    """json.dumps fallback: message objects (warnings, deprecations, exceptions) become text."""
    event = getattr(value, "event", None)
    if event is not None:
        return getattr(event, "formatted_traceback", None) or getattr(event, "msg", None) or str(event)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


class CallbackModule(CallbackBase):
    """Record task results for the pytest harness."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "linuxnet_test_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get(ENV_VAR)

    def _record(self, result, status, ignore_errors=False):
        if not self._path:
            return
        raw = getattr(result, "result", None)
        if raw is None:  # ansible-core < 2.19
            raw = result._result  # pylint: disable=protected-access
        data = strip_internal_keys(module_response_deepcopy(raw))
        if status == "ok" and data.get("changed"):
            status = "changed"
        task = getattr(result, "task", None) or result._task  # pylint: disable=protected-access
        host = getattr(result, "host", None) or result._host  # pylint: disable=protected-access
        line = {
            "task": result.task_name,
            "action": task.action,
            "host": host.get_name(),
            "status": status,
            "ignore_errors": bool(ignore_errors),
            "result": data,
        }
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, default=_plain, sort_keys=True) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
