# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() inside a Python process: one run costs milliseconds, not a playbook.

``Harness.run(module, params, check=, diff=)`` hands the parameters to AnsibleModule the way the
AnsiballZ wrapper does (``ansible.module_utils.basic._ANSIBLE_ARGS``, with ``_ansible_check_mode``
and ``_ansible_diff``), captures what exit_json/fail_json print and returns it as a dict with
``failed`` always set. A module that raises instead of exiting raises ModuleCrashed (a traceback is
always a bug). ``Harness.residual()`` plans the specs of the last run again on a fresh read of the
kernel, as verify-after-apply does: the actions still needed (none, when the run did what it said).

The same harness serves another interpreter (``python3 inprocess.py``: one JSON request per line on
stdin, one JSON answer per line on stdout), so that the tests drive /usr/bin/python3 with Debian's
pyroute2 0.7.2 exactly as they drive the virtualenv's 0.9.x in process (see ``Server`` and
test_properties.py). Nothing here imports pytest.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / "build" / "collections"
PACKAGE = "ansible_collections.linuxnet.ipvlan"

if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


class ModuleCrashed(AssertionError):
    """The module raised instead of calling exit_json/fail_json (Ansible shows MODULE FAILURE)."""


class Harness:
    """Runs modules in this process; remembers the specs the last run planned."""

    def __init__(self) -> None:
        try:
            from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
        except ImportError:  # ansible-core < 2.19
            _internal = None
        # With controller code imported, module warnings would go to the display, not the result.
        if getattr(_internal, "is_controller", False):
            raise RuntimeError("ansible controller code is loaded in this process: results would lose warnings")
        self._runner = importlib.import_module(PACKAGE + ".plugins.module_utils._runner")
        self._plan = self._runner.plan
        self.specs = None
        self._runner.plan = self._recording_plan

    def _recording_plan(self, specs, world, **kwargs):
        specs = list(specs)
        if self.specs is None:  # the first plan of a run; verification plans the same declaration again
            self.specs = specs
        return self._plan(specs, world, **kwargs)

    def run(self, module: str, params: dict, *, check: bool = False, diff: bool = False) -> dict:
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel

        main = importlib.import_module(PACKAGE + ".plugins.modules." + module).main
        args = dict(params, _ansible_check_mode=check, _ansible_diff=diff)
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()  # pylint: disable=protected-access
        basic._ANSIBLE_PROFILE = "legacy"  # ansible-core 2.19+; older releases ignore it
        _forget_warnings()
        self.specs = None
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                main()
        except SystemExit:
            pass
        except Exception:  # pylint: disable=broad-except
            raise ModuleCrashed(f"{module} {params} (check={check}) raised:\n{traceback.format_exc()}") from None
        else:
            raise ModuleCrashed(f"{module} returned without exit_json or fail_json")
        finally:
            basic._ANSIBLE_ARGS = None  # pylint: disable=protected-access
        result = json.loads(out.getvalue())
        result.setdefault("failed", False)
        result.setdefault("changed", False)
        result.pop("invocation", None)
        if "warnings" in result:
            result["warnings"] = [_text(warning) for warning in result["warnings"]]
        return result

    def residual(self) -> list[str]:
        """The actions the last run's specs still need on a fresh read (verify-after-apply)."""
        session_module = importlib.import_module(PACKAGE + ".plugins.module_utils._session")
        if self.specs is None:
            return []
        with session_module.Session() as session:
            return self._plan(self.specs, session.world()).describe()


def _text(warning) -> str:
    """A warning as the controller shows it (ansible-core 2.19 sends a structured summary)."""
    if isinstance(warning, dict):
        return warning.get("event", {}).get("msg", str(warning))
    return warning


def _forget_warnings() -> None:
    """AnsibleModule collects warnings per process: one run's must not show in the next."""
    from ansible.module_utils.common import warnings  # pylint: disable=import-outside-toplevel

    for name in ("_global_warnings", "_global_deprecations"):
        collected = getattr(warnings, name, None)
        if collected is not None:
            collected.clear()


# --------------------------------------------------------------------------- other interpreters


class Server:
    """Serve Harness calls on stdin/stdout: {"op": "run"|"residual", ...} -> {"result": ...}|{"crash": ...}."""

    def __init__(self, stdin, stdout) -> None:
        self.stdin, self.stdout = stdin, stdout
        self.harness = Harness()

    def serve(self) -> None:
        for line in self.stdin:
            request = json.loads(line)
            try:
                if request["op"] == "run":
                    answer = {"result": self.harness.run(request["module"], request["params"],
                                                         check=request["check"], diff=request["diff"])}
                elif request["op"] == "residual":
                    answer = {"result": self.harness.residual()}
                elif request["op"] == "versions":
                    answer = {"result": _versions()}
                else:
                    answer = {"crash": f"unknown op {request['op']!r}"}
            except ModuleCrashed as exc:
                answer = {"crash": str(exc)}
            self.stdout.write(json.dumps(answer) + "\n")
            self.stdout.flush()


def _versions() -> dict:
    import importlib.metadata as metadata  # pylint: disable=import-outside-toplevel

    return {"python": sys.executable, "pyroute2": metadata.version("pyroute2")}


class Client:
    """The Harness interface, served by another interpreter (Server) in a child process."""

    def __init__(self, python: str, ansible_dir: str) -> None:
        import subprocess  # pylint: disable=import-outside-toplevel

        env = dict(os.environ, PYTHONPATH=ansible_dir, PYTHONDONTWRITEBYTECODE="1")
        self._proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [python, str(Path(__file__).resolve())], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env)

    def _ask(self, **request):
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise ModuleCrashed(f"the harness server exited (rc={self._proc.wait()})")
        answer = json.loads(line)
        if "crash" in answer:
            raise ModuleCrashed(answer["crash"])
        return answer["result"]

    def run(self, module: str, params: dict, *, check: bool = False, diff: bool = False) -> dict:
        return self._ask(op="run", module=module, params=params, check=check, diff=diff)

    def residual(self) -> list[str]:
        return self._ask(op="residual")

    def versions(self) -> dict:
        return self._ask(op="versions")

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=60)


if __name__ == "__main__":
    # Answers go to the real stdout; what modules print is captured per run.
    Server(sys.stdin, os.fdopen(os.dup(sys.stdout.fileno()), "w")).serve()
