# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One in-process run of the linuxnet.ipvlan.topology module, timed by engine stage (bench.py runs it).

  python engine_run.py COLLECTIONS_DIR ARGS_JSON_FILE

Runs the module's own main() in this process (its AnsibleModule reads ARGS_JSON_FILE as the
task's arguments, as AnsiballZ would hand them over), so the figures are the module's work
without Ansible's controller, transfer and interpreter start. Prints one JSON object:

  seconds      the engine's converge(): read, plan, apply, verify (what bench.py compares with ip -batch)
  cpu          user + system CPU seconds of the same
  stages       seconds per stage, each exclusive of the others:
                 read   kernel reads before the first change (Session.read)
                 plan   planning (the planner, minus the reads it triggers)
                 apply  the changes (the runner's _apply)
                 after  everything after the changes: the verifying re-read and re-plan
                 other  the rest of converge() before the changes (preflight, bookkeeping)
  module       main() from start to exit: argument parsing and validation, the engine, the JSON result
  imports      importing the module and the engine's modules
  changed, actions (how many), first_actions, failed, msg: from the module's result
  peak_rss_mb  this process's peak resident set (ru_maxrss)
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import resource
import sys
import time

ENGINE = "ansible_collections.linuxnet.ipvlan.plugins.module_utils."
MODULE = "ansible_collections.linuxnet.ipvlan.plugins.modules.topology"


class StageClock:
    """Exclusive time per stage: a stage entered inside another pauses the outer one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu = 0.0                 # user + system CPU inside any stage
        self.applied = False
        self._stack: list[list] = []   # [stage, started]
        self._cpu_started = 0.0

    def _charge(self, now: float) -> None:
        if self._stack:
            stage, started = self._stack[-1]
            self.seconds[stage] = self.seconds.get(stage, 0.0) + now - started

    @contextlib.contextmanager
    def stage(self, name: str):
        if self.applied and name != "apply":
            name = "after"
        now = time.perf_counter()
        self._charge(now)
        if not self._stack:
            self._cpu_started = time.process_time()
        self._stack.append([name, now])
        try:
            yield
        finally:
            now = time.perf_counter()
            self._charge(now)
            self._stack.pop()
            if self._stack:
                self._stack[-1][1] = now
            else:
                self.cpu += time.process_time() - self._cpu_started
            if name == "apply":
                self.applied = True


def timed(clock: StageClock, stage: str, func):
    def wrapper(*args, **kwargs):
        with clock.stage(stage):
            return func(*args, **kwargs)
    wrapper.__wrapped__ = func
    return wrapper


def instrument(clock: StageClock) -> None:
    """Time the engine's entry points where the module reaches them (names looked up at call time)."""
    session = importlib.import_module(ENGINE + "_session").Session
    session.read = timed(clock, "read", session.read)
    runner = importlib.import_module(ENGINE + "_runner")
    runner.converge = timed(clock, "other", runner.converge)
    runner.plan = timed(clock, "plan", runner.plan)
    runner._apply = timed(clock, "apply", runner._apply)


def main(argv: list[str]) -> int:
    collections, args_file = argv[1], argv[2]
    sys.path.insert(0, collections)
    with open(args_file, encoding="utf-8") as handle:
        args = json.load(handle)

    started = time.perf_counter()
    basic = importlib.import_module("ansible.module_utils.basic")
    module = importlib.import_module(MODULE)
    importlib.import_module(ENGINE + "_session")
    imports = time.perf_counter() - started

    clock = StageClock()
    instrument(clock)
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core 2.19+: how the arguments are encoded
        basic._ANSIBLE_PROFILE = "legacy"
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit:
            pass
    elapsed = time.perf_counter() - started
    result = json.loads(out.getvalue())
    report = {
        "seconds": sum(clock.seconds.values()),
        "cpu": clock.cpu,
        "stages": clock.seconds,
        "module": elapsed,
        "imports": imports,
        "changed": bool(result.get("changed")),
        "actions": len(result.get("actions") or []),
        "first_actions": (result.get("actions") or [])[:3],
        "failed": bool(result.get("failed")),
        "msg": result.get("msg"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    print(json.dumps(report))
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
