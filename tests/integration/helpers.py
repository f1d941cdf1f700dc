# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host-kernel integration-test helpers.

Two halves:

* the kernel oracle: ``ip_json()`` and friends run iproute2 (``ip -j -d``), independently of the
  collection's own netlink code, and return what the kernel really holds;
* ``run_tasks()``: runs a task list through ``ansible-playbook`` against localhost and returns
  every task's result as a dict (recorded by callback_plugins/linuxnet_test_results.py).

Every name the tests use for kernel objects comes from ``new_name()``: ``lnt`` + a 3-character
session id + 5 random characters (11 characters, IFNAMSIZ allows 15). conftest.py removes whatever
carries its session's prefix at teardown and fails the session if anything was left behind.
Every command is an argv list, never a shell string.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / "build" / "collections"
COLLECTION_LINK = COLLECTIONS_PATH / "ansible_collections" / "linuxnet" / "ipvlan"
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
CALLBACK_NAME = "linuxnet_test_results"
RESULTS_ENV = "LINUXNET_TEST_RESULTS"

# The interpreters modules run under (see conftest.py: python_interpreter).
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"  # pyroute2 0.9.x from PyPI
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's python3-pyroute2 (0.7.2 on bookworm)
# ansible-playbook of the virtualenv running pytest (the Makefile's .venv).
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

PREFIX = "lnt"
_ALPHABET = string.ascii_lowercase + string.digits
SESSION_ID = "".join(secrets.choice(_ALPHABET) for _pos in range(3))
SESSION_PREFIX = PREFIX + SESSION_ID
IFNAMSIZ = 15  # longest interface name; also used for namespace names


def new_name() -> str:
    """Return a fresh name for a namespace or link of this test session (11 characters)."""
    return SESSION_PREFIX + "".join(secrets.choice(_ALPHABET) for _pos in range(5))


# --------------------------------------------------------------------------- commands


def run(
    argv: Sequence[str], *, check: bool = True, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run argv (no shell), STDIN on its standard input; with check, raise AssertionError carrying stderr when it fails."""
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"command failed (rc={proc.returncode}): {list(argv)}\n{proc.stderr}{proc.stdout}")
    return proc


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``ip [-n NETNS] ARGS`` and return its stdout."""
    argv = ["ip"] + (["-n", netns] if netns else []) + list(args)
    return run(argv, check=check).stdout


def ip_json(netns: str | None, *args: str) -> Any:
    """Run ``ip -j -d [-n NETNS] ARGS`` and return the parsed JSON ([] when ip prints nothing).

    The independent oracle for kernel state: e.g. ``ip_json(ns, "-6", "route", "show", "table", "all")``.
    """
    argv = ["ip", "-j", "-d"] + (["-n", netns] if netns else []) + list(args)
    out = run(argv).stdout.strip()
    return json.loads(out) if out else []


def netns_names() -> set[str]:
    """Names of the namespaces ``ip netns`` knows (those in /run/netns)."""
    return {entry["name"] for entry in ip_json(None, "netns", "list")}


def netns_exists(name: str) -> bool:
    return name in netns_names()


def links(netns: str | None = None) -> list[dict[str, Any]]:
    """All links of a namespace (None: the root namespace), as ``ip -j -d link show`` reports them."""
    return ip_json(netns, "link", "show")


def link(netns: str | None, name: str) -> dict[str, Any] | None:
    """One link by name, or None when the namespace has no such link."""
    for entry in links(netns):
        if entry.get("ifname") == name:
            return entry
    return None


def link_kind(entry: Mapping[str, Any]) -> str | None:
    """The link's kind (veth, ipvlan, dummy...), None for physical/loopback links."""
    return (entry.get("linkinfo") or {}).get("info_kind")


def is_up(entry: Mapping[str, Any]) -> bool:
    """Administratively up (the UP flag), whatever the carrier."""
    return "UP" in entry.get("flags", [])


def addresses(netns: str | None, dev: str, family: int | None = None) -> list[dict[str, Any]]:
    """The ``addr_info`` entries of a link (each has family, local, prefixlen, scope...)."""
    fam = [f"-{family}"] if family else []
    entries = ip_json(netns, *fam, "address", "show", "dev", dev)
    return [info for entry in entries for info in entry.get("addr_info", [])]


def cidrs(netns: str | None, dev: str, family: int | None = None, scope: str | None = "global") -> set[str]:
    """The addresses of a link as ``local/prefixlen`` strings (default: global scope only, so no link-local)."""
    return {
        f"{info['local']}/{info['prefixlen']}"
        for info in addresses(netns, dev, family)
        if scope is None or info.get("scope") == scope
    }


def routes(netns: str | None, family: int = 4, table: str | int = "main") -> list[dict[str, Any]]:
    """Routes of one table (``main``, ``local``, a number or ``all``) for family 4 or 6."""
    return ip_json(netns, f"-{family}", "route", "show", "table", str(table))


# --------------------------------------------------------------------------- kernel objects


def assert_failed_cleanly(result: Mapping[str, Any], prefix: str, *words: str) -> None:
    """A task refused its input: failed, changed nothing, said which parameter (PREFIX) and why (WORDS)."""
    assert result["failed"] and not result["changed"], result
    assert result.get("msg", "").startswith(prefix), result
    for word in words:
        assert word in result["msg"], result
    assert "Traceback" not in json.dumps(dict(result)), result


def add_netns(name: str) -> None:
    ip("netns", "add", name)


def del_netns(name: str) -> None:
    """Remove a namespace if it exists (the kernel tears it down asynchronously)."""
    if netns_exists(name):
        ip("netns", "delete", name, check=False)


def del_link(netns: str | None, name: str) -> None:
    """Delete a link if it exists (a veth takes its peer with it)."""
    if netns is not None and not netns_exists(netns):
        return
    if link(netns, name) is not None:
        ip("link", "delete", "dev", name, netns=netns, check=False)


def add_veth(
    netns_a: str | None, netns_b: str | None, name_a: str, name_b: str, *, up: bool = False
) -> None:
    """Create a veth pair: name_a in netns_a, name_b in netns_b (None: the root namespace)."""
    argv = ["link", "add", name_a]
    if netns_a:
        argv += ["netns", netns_a]
    argv += ["type", "veth", "peer", "name", name_b]
    if netns_b:
        argv += ["netns", netns_b]
    ip(*argv)
    if up:
        ip("link", "set", "dev", name_a, "up", netns=netns_a)
        ip("link", "set", "dev", name_b, "up", netns=netns_b)


def add_bridge(netns: str | None, name: str, *, up: bool = False) -> None:
    """A bridge: a standalone link with no peer (this host's kernel has no dummy driver)."""
    argv = ["link", "add", name]
    if netns:
        argv += ["netns", netns]
    ip(*argv, "type", "bridge")
    if up:
        ip("link", "set", "dev", name, "up", netns=netns)


def kernel_supports(kind: str, *extra: str) -> bool:
    """Whether this kernel can create a link of this kind (probed in a throwaway namespace).

    E.g. kernel_supports("ipvlan"): the parent is a veth made for the probe. Some hosts (CI's
    included) lack dummy, macvlan and ipvlan; tests that need them must say so, never skip silently.
    """
    probe = new_name()
    add_netns(probe)
    try:
        if kind in ("ipvlan", "macvlan", "macvtap", "ipvtap", "vlan"):
            ip("link", "add", "p0", "type", "veth", "peer", "name", "p1", netns=probe)
            argv = ["link", "add", "link", "p0", "name", "x0", "type", kind, *extra]
        else:
            argv = ["link", "add", "name", "x0", "type", kind, *extra]
        return run(["ip", "-n", probe] + argv, check=False).returncode == 0
    finally:
        del_netns(probe)


def leftovers(prefix: str) -> list[str]:
    """Namespaces and root-namespace links whose name starts with prefix, as 'netns X' / 'link X'."""
    found = [f"netns {name}" for name in sorted(netns_names()) if name.startswith(prefix)]
    found += [f"link {entry['ifname']}" for entry in links(None) if entry.get("ifname", "").startswith(prefix)]
    return found


def remove_leftovers(prefix: str, *, timeout: float = 10) -> list[str]:
    """Remove what leftovers(prefix) finds, wait until the kernel is done; return what it found."""
    found = leftovers(prefix)
    for item in found:
        kind, name = item.split(" ", 1)
        if kind == "link":
            del_link(None, name)
        else:
            del_netns(name)
    deadline = time.monotonic() + timeout
    while leftovers(prefix) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


# --------------------------------------------------------------------------- ansible-playbook


class TaskResult(dict):
    """One task's result: the module's return values as a dict, plus attributes.

    Always has the keys ``changed`` and ``failed``. Attributes: ``task`` (name), ``action``
    (e.g. ``linuxnet.ipvlan.netns``), ``host``, ``status`` (ok, changed, failed, skipped, unreachable),
    ``ignore_errors``. For a loop, ``self["results"]`` holds the per-item results.
    """

    def __init__(self, line: Mapping[str, Any]) -> None:
        super().__init__(line.get("result") or {})
        self.task: str = line.get("task", "")
        self.action: str = line.get("action", "")
        self.host: str = line.get("host", "")
        self.status: str = line.get("status", "")
        self.ignore_errors: bool = bool(line.get("ignore_errors"))
        self["failed"] = self.status in ("failed", "unreachable")
        self.setdefault("changed", False)
        if self.status == "skipped":
            self["skipped"] = True

    @property
    def changed(self) -> bool:
        return bool(self["changed"])

    @property
    def failed(self) -> bool:
        return bool(self["failed"])

    @property
    def msg(self) -> str:
        return str(self.get("msg", ""))

    @property
    def diff(self) -> Any:
        """The ``diff`` return value (a dict or a list of dicts), None when the module gave none."""
        return self.get("diff")

    def __repr__(self) -> str:
        return f"TaskResult(task={self.task!r}, status={self.status!r}, {dict.__repr__(self)})"


class PlaybookRun(Sequence[TaskResult]):
    """The outcome of run_tasks(): a sequence of TaskResult in execution order, plus rc and output."""

    def __init__(self, results: list[TaskResult], rc: int, stdout: str, stderr: str, playbook: str) -> None:
        self.results = results
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.playbook = playbook

    def __getitem__(self, index):  # type: ignore[override]
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[TaskResult]:
        return iter(self.results)

    def task(self, name: str) -> TaskResult:
        """The result of the task with this name (exactly one must match)."""
        matches = [r for r in self.results if r.task == name]
        if len(matches) != 1:
            raise AssertionError(f"{len(matches)} results for task {name!r}: {[r.task for r in self.results]}")
        return matches[0]

    @property
    def last(self) -> TaskResult:
        if not self.results:
            raise AssertionError("no task result recorded\n" + self.output())
        return self.results[-1]

    @property
    def changed(self) -> bool:
        """True when any task reported a change."""
        return any(r.changed for r in self.results)

    def output(self) -> str:
        return (
            f"--- playbook\n{self.playbook}\n--- ansible-playbook rc={self.rc}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


def _check_interpreter(interpreter: str | os.PathLike[str]) -> None:
    if not Path(interpreter).exists():
        raise AssertionError(f"python interpreter {interpreter} does not exist: run 'make setup'")


def run_tasks(
    tasks: Sequence[Mapping[str, Any]],
    *,
    check: bool = False,
    diff: bool = False,
    interpreter: str | os.PathLike[str] = VENV_PYTHON,
    expect_failure: bool = False,
    play_vars: Mapping[str, Any] | None = None,
    play_keywords: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    verbosity: int = 0,
    timeout: float = 600,
    wrapper: Sequence[str] = (),
) -> PlaybookRun:
    """Run tasks as one play against localhost (connection local, no fact gathering).

    Returns a PlaybookRun (a sequence of TaskResult, in order). With ``check``/``diff`` the whole
    play runs with --check/--diff (a task may also set ``check_mode: true`` or ``diff: true``).
    Modules run under ``interpreter`` (the python_interpreter fixture gives both pyroute2 versions).
    ``play_keywords`` override keywords of the play (``gather_facts``, ``module_defaults``...).

    By default every task must succeed, otherwise AssertionError (with the playbook and the
    ansible-playbook output). With ``expect_failure=True`` the LAST task run must have failed (the
    play stops there, no ignore_errors needed) and its result is ``run.last``; a run where nothing
    failed raises AssertionError.

    ``wrapper`` is an argv prefix that runs ansible-playbook (and so the modules) in another
    environment, e.g. ``["setpriv", "--bounding-set=-net_admin", "--"]`` without a capability.
    """
    _check_interpreter(interpreter)
    if not ANSIBLE_PLAYBOOK.exists():
        raise AssertionError(f"{ANSIBLE_PLAYBOOK} not found: run pytest from the .venv ('make setup')")
    if not COLLECTION_LINK.exists():
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        COLLECTION_LINK.symlink_to(REPO_ROOT)

    play: dict[str, Any] = {
        "name": "linuxnet.ipvlan integration test",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": list(tasks),
    }
    if play_vars:
        play["vars"] = dict(play_vars)
    play.update(play_keywords or {})  # e.g. gather_facts, module_defaults
    playbook = json.dumps([play], indent=2)  # JSON is YAML
    inventory = {
        "all": {
            "hosts": {
                "localhost": {"ansible_connection": "local", "ansible_python_interpreter": str(interpreter)},
            }
        }
    }

    with tempfile.TemporaryDirectory(prefix="lnt-play-") as tmp:
        work = Path(tmp)
        (work / "playbook.yml").write_text(playbook, encoding="utf-8")
        (work / "inventory.yml").write_text(json.dumps(inventory), encoding="utf-8")
        (work / "ansible.cfg").write_text("", encoding="utf-8")
        results_file = work / "results.jsonl"

        run_env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        run_env.update(
            {
                "ANSIBLE_CONFIG": str(work / "ansible.cfg"),  # no ansible.cfg from the checkout or $HOME
                "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
                "ANSIBLE_CALLBACKS_ENABLED": CALLBACK_NAME,
                "ANSIBLE_LOCAL_TEMP": str(work / "local-tmp"),
                "ANSIBLE_REMOTE_TMP": str(work / "remote-tmp"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "false",
                "ANSIBLE_LOCALHOST_WARNING": "false",
                RESULTS_ENV: str(results_file),
            }
        )
        run_env.update(env or {})

        argv = [*wrapper, str(ANSIBLE_PLAYBOOK), "-i", str(work / "inventory.yml"), str(work / "playbook.yml")]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        proc = subprocess.run(argv, cwd=work, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)

        lines = results_file.read_text(encoding="utf-8").splitlines() if results_file.exists() else []
        results = [TaskResult(json.loads(line)) for line in lines if line.strip()]

    outcome = PlaybookRun(results, proc.returncode, proc.stdout, proc.stderr, playbook)
    if tasks and not results:
        raise AssertionError(f"no task result recorded (is the {CALLBACK_NAME} callback loaded?)\n" + outcome.output())
    failed = [r for r in results if r.failed and not r.ignore_errors]
    if expect_failure:
        if proc.returncode == 0 or not failed:
            raise AssertionError("expected a task to fail, none did\n" + outcome.output())
        if failed[-1] is not results[-1]:
            raise AssertionError("expected the play to stop at the failed task\n" + outcome.output())
    elif proc.returncode != 0:
        # (a failure rescued by a block's rescue section leaves rc 0 and is not an error)
        reason = f"task {failed[-1].task!r} failed: {failed[-1].msg}" if failed else "ansible-playbook failed"
        raise AssertionError(reason + "\n" + outcome.output())
    return outcome


# --------------------------------------------------------------------------- /run/netns entries

RUN_NETNS = Path("/run/netns")


def mounts_at(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Mounts stacked on PATH, first to last, as util-linux's findmnt reports them (target, fstype, fsroot, source)."""
    proc = run(["findmnt", "-J", "-o", "TARGET,FSTYPE,FSROOT,SOURCE", "--mountpoint", str(path)], check=False)
    return json.loads(proc.stdout)["filesystems"] if proc.returncode == 0 and proc.stdout.strip() else []


def clear_entry(name: str) -> None:
    """Remove whatever is at /run/netns/NAME (every stacked mount, then the entry), never following a link."""
    path = RUN_NETNS / name
    if not path.is_symlink():
        for _mount in range(64):
            if not mounts_at(path):
                break
            run(["umount", "--lazy", str(path)])
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        path.rmdir()
