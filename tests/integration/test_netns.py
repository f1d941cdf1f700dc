# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.netns on the host kernel, checked against `ip netns` (the independent oracle)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import helpers
from helpers import ip_json, netns_exists, netns_names

MODULE = "linuxnet.ipvlan.netns"


def netns_task(label: str, name: str, state: str = "present", **extra) -> dict:
    return {"name": label, MODULE: {"name": name, "state": state}, **extra}


def netns_list_task(label: str) -> dict:
    """`ip -j netns list` as a task, to read the kernel between two module tasks of one play."""
    return {"name": label, "ansible.builtin.command": {"argv": ["ip", "-j", "netns", "list"]}, "changed_when": False}


def listed(result) -> set[str]:
    out = result["stdout"].strip()
    return {entry["name"] for entry in json.loads(out)} if out else set()


def own_netns_inode() -> tuple[int, int]:
    st = os.stat("/proc/self/ns/net")
    return st.st_dev, st.st_ino


def test_create_check_mode_and_idempotence(run_tasks, netns):
    name = netns.name()
    run = run_tasks(
        [
            netns_task("Check create", name, check_mode=True, diff=True),
            netns_list_task("List after check"),
            netns_task("Create", name, diff=True),
            netns_task("Create again", name, diff=True),
            netns_task("Check again", name, check_mode=True, diff=True),
        ]
    )
    check, real = run.task("Check create"), run.task("Create")
    assert check.changed and check["actions"] == [f"create namespace {name}"]
    assert check["netns"] == {"name": name, "exists": True, "held_by": []}
    assert name not in listed(run.task("List after check")), "check mode created the namespace"

    assert real.changed and real["actions"] == check["actions"]
    assert real.diff == check.diff == {"before": {name: {"state": "absent"}}, "after": {name: {"state": "present"}}}
    assert real["netns"]["exists"] is True
    for again in (run.task("Create again"), run.task("Check again")):
        assert not again.changed and again["actions"] == []
        assert again.diff["before"] == again.diff["after"]

    # Oracle: iproute2 sees it, can enter it, and it is a namespace of its own with only lo.
    assert name in netns_names()
    helpers.run(["ip", "netns", "exec", name, "true"])
    inside = helpers.run(["ip", "netns", "exec", name, "stat", "-L", "-c", "%d %i", "/proc/self/ns/net"]).stdout
    assert tuple(int(x) for x in inside.split()) != own_netns_inode()
    assert [entry["ifname"] for entry in ip_json(name, "link", "show")] == ["lo"]


def test_namespace_made_by_ip_netns_add_is_seen(run_tasks, netns):
    name = netns()  # ip netns add
    run = run_tasks(
        [
            netns_task("Check", name, check_mode=True, diff=True),
            netns_task("Present", name, diff=True),
        ]
    )
    for result in run:
        assert not result.changed and result["actions"] == []
        assert result["netns"]["exists"] is True
        assert result.diff == {"before": {name: {"state": "present"}}, "after": {name: {"state": "present"}}}
    assert netns_exists(name)


def test_names_match_exactly(run_tasks, netns):
    longer = netns()  # ip netns add
    shorter = longer[:-1]  # a prefix of an existing name
    netns.names.append(shorter)  # the fixture removes it if the test made it
    suffixed = longer + "x"  # an existing name is a prefix of it (never created)
    run = run_tasks(
        [
            netns_task("Check shorter", shorter, check_mode=True),
            netns_task("Remove missing shorter", shorter, "absent"),
            netns_task("Check longer absent", suffixed, "absent", check_mode=True),
            netns_task("Remove missing suffixed", suffixed, "absent"),
            netns_task("Create shorter", shorter),
            netns_task("Remove shorter", shorter, "absent"),
        ]
    )
    assert run.task("Check shorter").changed, f"{shorter} was mistaken for {longer}"
    assert run.task("Check shorter")["actions"] == [f"create namespace {shorter}"]
    for label in ("Remove missing shorter", "Check longer absent", "Remove missing suffixed"):
        assert not run.task(label).changed, f"{label}: {run.task(label)}"
        assert run.task(label)["netns"]["exists"] is False
    assert run.task("Create shorter").changed
    assert run.task("Remove shorter").changed
    assert run.task("Remove shorter")["actions"] == [f"delete namespace {shorter}"]
    names = netns_names()
    assert longer in names and shorter not in names and suffixed not in names


def test_remove_check_mode_and_idempotence(run_tasks, netns):
    name = netns()
    run = run_tasks(
        [
            netns_task("Check remove", name, "absent", check_mode=True, diff=True),
            netns_list_task("List after check"),
            netns_task("Remove", name, "absent", diff=True),
            netns_task("Remove again", name, "absent", diff=True),
            netns_task("Check again", name, "absent", check_mode=True),
        ]
    )
    check, real = run.task("Check remove"), run.task("Remove")
    assert check.changed and check["actions"] == [f"delete namespace {name}"]
    assert check["netns"] == {"name": name, "exists": False, "held_by": []}
    assert name in listed(run.task("List after check")), "check mode removed the namespace"
    assert real.changed and real["actions"] == check["actions"]
    assert real.diff == check.diff == {"before": {name: {"state": "present"}}, "after": {name: {"state": "absent"}}}
    assert not real.get("warnings")
    for again in (run.task("Remove again"), run.task("Check again")):
        assert not again.changed and again["actions"] == []
        assert again["netns"]["exists"] is False
    assert name not in netns_names()
    assert not Path("/run/netns", name).exists()


def _wait_until_inside(pid: int, name: str) -> None:
    """Wait until `ip netns exec` has switched the process into the namespace (it then execs sleep)."""
    target = os.stat(f"/run/netns/{name}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except FileNotFoundError:
            raise AssertionError(f"process {pid} ended before entering {name}") from None
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never entered namespace {name}")


def test_remove_namespace_held_by_a_process(run_tasks, netns):
    name = netns()
    proc = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "600"])  # pylint: disable=consider-using-with
    try:
        _wait_until_inside(proc.pid, name)
        run = run_tasks(
            [
                netns_task("Check remove", name, "absent", check_mode=True),
                netns_task("Remove", name, "absent"),
                netns_task("Remove again", name, "absent"),
            ]
        )
        for label in ("Check remove", "Remove"):
            result = run.task(label)
            assert result.changed
            assert proc.pid in result["netns"]["held_by"], result
            warnings = " ".join(map(str, result.get("warnings", [])))
            assert name in warnings and str(proc.pid) in warnings, result
        assert run.task("Remove")["netns"]["exists"] is False
        assert not run.task("Remove again").changed
        assert run.task("Remove again")["netns"]["held_by"] == []
        assert name not in netns_names()
        # The name is gone, the process still lives in the (now unnamed) namespace.
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_bad_names_fail_and_create_nothing(run_tasks):
    token = helpers.new_name()  # a unique word inside every bad name: nothing may appear with it
    bad = {
        "empty": ("", "present"),
        "dot": (".", "present"),
        "dotdot": ("..", "present"),
        "dotdot absent": ("..", "absent"),
        "slash": (f"{token}/x", "present"),
        "slash absent": (f"{token}/x", "absent"),
        "tab": (f"{token}\tx", "present"),
        "newline": (f"{token}\nx", "present"),
        "NUL": (f"{token}\x00x", "present"),
        "too long": (token + "x" * (256 - len(token)), "present"),
    }
    run = run_tasks([netns_task(label, name, state, ignore_errors=True) for label, (name, state) in bad.items()])
    assert [r.task for r in run] == list(bad)
    for result in run:
        assert result.failed, result
        assert not result.changed, result
        assert result.msg.startswith("name: "), result
        assert "Traceback" not in json.dumps(dict(result))
    assert run.task("too long").msg == "name: namespace name is 256 bytes long; the filesystem allows 255"
    assert not [name for name in netns_names() if token in name]
    assert not Path("/run/netns", token).exists()
    assert Path("/run/netns").is_dir()


# --------------------------------------------------------------------------- names ip accepts

FACTS = "linuxnet.ipvlan.facts"


def facts_task(label: str, **args) -> dict:
    return {"name": label, FACTS: {"include_root": False, **args}}


def read_namespaces(result) -> dict:
    return result["ansible_facts"]["linuxnet_ipvlan"]["namespaces"]


def test_any_name_ip_accepts_is_listed_read_and_removed(run_tasks, netns):
    """Names the kernel escapes in /proc/self/mountinfo (space, tab, newline, backslash), unicode, a
    leading dash, quotes, % and $: made by `ip netns add`, read by facts, removed by the module, and
    no task about another namespace breaks while they exist."""
    token = helpers.new_name()
    names = [f"{token} sp", f"{token}\\134x", f"{token}\tt", f"{token}\nnl", f"{token}\u00e9\u2603", f"-{token}",
             f"{token}\"'%i$x;", f"{token}\\"]
    for name in names:
        netns.names.append(name)
        helpers.add_netns(name)
    other = netns.name()
    run = run_tasks(
        [
            facts_task("Read all"),
            facts_task("Read these", netns=names),
            netns_task("Create another", other),
            *[netns_task(f"Check remove {index}", name, "absent", check_mode=True) for index, name in enumerate(names)],
            *[netns_task(f"Remove {index}", name, "absent") for index, name in enumerate(names)],
            *[netns_task(f"Remove again {index}", name, "absent") for index, name in enumerate(names)],
        ]
    )
    everything, these = read_namespaces(run.task("Read all")), read_namespaces(run.task("Read these"))
    for name in names:
        assert everything[name]["exists"] is True and list(everything[name]["links"]) == ["lo"], name
        assert these[name] == everything[name]
    assert f"{token}\\040x" not in everything, "a name was read as mountinfo escapes it"
    assert run.task("Create another").changed and netns_exists(other)
    for index, name in enumerate(names):
        shown = json.dumps(name) if not name.isprintable() else name
        for label in (f"Check remove {index}", f"Remove {index}"):
            assert run.task(label).changed and run.task(label)["actions"] == [f"delete namespace {shown}"], label
        assert not run.task(f"Remove again {index}").changed
    assert not set(names) & netns_names()
    assert not [entry for entry in os.listdir("/run/netns") if token in entry]


def test_names_with_spaces_backslashes_and_unicode_are_created(run_tasks, netns):
    token = helpers.new_name()
    names = [f"{token} sp", f"{token}\\x", f"{token}\u00e9", f"-{token}", f"{token}\"'%$;"]
    for name in names:
        netns.names.append(name)
    refused = {"tab": f"{token}\tt", "newline": f"{token}\nn", "escape": f"{token}\x1b[0m", "nbsp": f"{token}\xa0x"}
    run = run_tasks(
        [netns_task(f"Create {index}", name) for index, name in enumerate(names)]
        + [netns_task(f"Again {index}", name) for index, name in enumerate(names)]
        + [netns_task(f"Create {label}", name, ignore_errors=True) for label, name in refused.items()]
    )
    for index, name in enumerate(names):
        assert run.task(f"Create {index}")["actions"] == [f"create namespace {name}"]
        assert not run.task(f"Again {index}").changed
        assert name in netns_names()
        helpers.run(["ip", "netns", "exec", name, "true"])
    for label in refused:
        helpers.assert_failed_cleanly(run.task(f"Create {label}"), "name: ", "control or invisible character")
    assert not [entry for entry in os.listdir("/run/netns") if token in entry and entry not in names]


# --------------------------------------------------------------------------- leftovers in /run/netns

class Entries:
    """Makes things at /run/netns/NAME that are not namespaces; removes them at teardown, whatever they became."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.paths: list[Path] = []

    def name(self) -> str:
        name = helpers.new_name()
        self.names.append(name)
        return name

    def temp_file(self) -> Path:
        path = Path("/run", f"{helpers.new_name()}.src")  # on the host's /run, not a test's private /tmp
        path.write_text("not a namespace\n", encoding="utf-8")
        self.paths.append(path)
        return path

    def empty_file(self) -> str:
        """What an interrupted `ip netns add` leaves: the empty file it creates before the bind mount."""
        name = self.name()
        os.close(os.open(helpers.RUN_NETNS / name, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
        return name

    def bind(self, source: str | Path) -> str:
        name = self.empty_file()
        helpers.run(["mount", "--bind", str(source), str(helpers.RUN_NETNS / name)])
        return name

    def cleanup(self) -> None:
        for name in reversed(self.names):
            helpers.clear_entry(name)
        for path in self.paths:
            path.unlink(missing_ok=True)


@pytest.fixture
def entries():
    made = Entries()
    try:
        yield made
    finally:
        made.cleanup()


def test_leftover_file_is_repaired(run_tasks, entries):
    name = entries.empty_file()
    run = run_tasks(
        [
            facts_task("Read it", netns=[name]),
            {"name": "Link in it", "linuxnet.ipvlan.link": {"name": "lo", "netns": name, "state": "up"},
             "ignore_errors": True},
            netns_task("Check", name, check_mode=True, diff=True),
            netns_task("Repair", name, diff=True),
            netns_task("Again", name, diff=True),
        ]
    )
    assert read_namespaces(run.task("Read it"))[name]["exists"] is False, "a leftover file was read as a namespace"
    helpers.assert_failed_cleanly(run.task("Link in it"), "netns: ", f"namespace {name} does not exist",
                                  "(/run/netns holds leftover file there)")
    check, repair = run.task("Check"), run.task("Repair")
    assert check.changed and check["actions"] == [f"repair namespace {name} (leftover file)"]
    assert repair.changed and repair["actions"] == check["actions"] and repair.diff == check.diff
    assert repair.diff == {"before": {name: {"state": "absent", "leftover": "leftover file"}},
                           "after": {name: {"state": "present"}}}
    assert not run.task("Again").changed
    # Oracle: a namespace of its own, which ip can enter.
    assert [m["fstype"] for m in helpers.mounts_at(helpers.RUN_NETNS / name)] == ["nsfs"]
    inside = helpers.run(["ip", "netns", "exec", name, "stat", "-L", "-c", "%d %i", "/proc/self/ns/net"]).stdout
    assert tuple(int(x) for x in inside.split()) != own_netns_inode()


def test_foreign_entries_are_refused_by_present_and_removed_by_absent(run_tasks, entries):
    source, gone = entries.temp_file(), entries.temp_file()
    made = {
        "bind": entries.bind(source),
        "dangling": entries.bind(gone),
        "uts": entries.bind("/proc/self/ns/uts"),
        "symlink": entries.name(),
        "directory": entries.name(),
    }
    gone.unlink()
    # Followed, it would lead whoever opens it into the host's own namespace.
    os.symlink("/proc/self/ns/net", helpers.RUN_NETNS / made["symlink"])
    os.mkdir(helpers.RUN_NETNS / made["directory"])
    (bind_mount,) = helpers.mounts_at(helpers.RUN_NETNS / made["bind"])
    expected = {
        "bind": f"a {bind_mount['fstype']} mount of {bind_mount['fsroot']} from ",
        "dangling": " (deleted) from ",
        "uts": "a mount of uts:[",
        "symlink": "a symbolic link to /proc/self/ns/net",
        "directory": "a directory",
    }
    tasks = []
    for kind, name in made.items():
        tasks += [
            netns_task(f"Present {kind}", name, ignore_errors=True),
            facts_task(f"Read {kind}", netns=[name]),
            netns_task(f"Check absent {kind}", name, "absent", check_mode=True),
            netns_task(f"Absent {kind}", name, "absent"),
            netns_task(f"Absent again {kind}", name, "absent"),
        ]
    run = run_tasks(tasks)
    for kind, name in made.items():
        what = expected[kind]
        helpers.assert_failed_cleanly(run.task(f"Present {kind}"), f"name: /run/netns/{name} is ", what,
                                      "not a network namespace", "state=absent")
        assert read_namespaces(run.task(f"Read {kind}"))[name]["exists"] is False
        check, absent = run.task(f"Check absent {kind}"), run.task(f"Absent {kind}")
        assert check.changed and absent.changed and absent["actions"] == check["actions"]
        (action,) = absent["actions"]
        assert action.startswith(f"remove /run/netns/{name} (") and what in action, action
        assert not run.task(f"Absent again {kind}").changed
        assert not os.path.lexists(helpers.RUN_NETNS / name) and not helpers.mounts_at(helpers.RUN_NETNS / name)
    # What the entries pointed to is untouched.
    assert source.read_text(encoding="utf-8") == "not a namespace\n"
    assert helpers.links(None)


def test_namespaces_mounted_by_another_tool(run_tasks, netns, entries):
    """An nsfs mount of a process's namespace (as container tools make), and two namespaces stacked on one name."""
    holder = subprocess.Popen(["unshare", "--net", "sleep", "600"])  # pylint: disable=consider-using-with
    try:
        deadline = time.monotonic() + 20
        while os.stat(f"/proc/{holder.pid}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino:
            assert time.monotonic() < deadline, "unshare never switched namespace"
            time.sleep(0.05)
        tools = entries.bind(f"/proc/{holder.pid}/ns/net")
        stacked, under = netns(), netns()
        helpers.run(["mount", "--bind", str(helpers.RUN_NETNS / under), str(helpers.RUN_NETNS / stacked)])
        run = run_tasks(
            [
                facts_task("Read", netns=[tools, stacked]),
                netns_task("Present tool's", tools),
                netns_task("Present stacked", stacked),
                netns_task("Absent tool's", tools, "absent"),
                netns_task("Absent stacked", stacked, "absent"),
                netns_task("Absent stacked again", stacked, "absent"),
            ]
        )
        read = read_namespaces(run.task("Read"))
        assert read[tools]["exists"] and list(read[tools]["links"]) == ["lo"]
        assert read[stacked]["exists"]
        assert not run.task("Present tool's").changed and not run.task("Present stacked").changed
        assert run.task("Absent tool's")["actions"] == [f"delete namespace {tools}"]
        assert run.task("Absent stacked")["actions"] == [f"delete namespace {stacked}"]
        assert not run.task("Absent stacked again").changed
        for name in (tools, stacked):
            assert not os.path.lexists(helpers.RUN_NETNS / name) and not helpers.mounts_at(helpers.RUN_NETNS / name)
        assert netns_exists(under), "removing the top of a stack removed what was under it"
        assert holder.poll() is None, "the tool's process went with the name"
    finally:
        holder.kill()
        holder.wait()


# The points where the module kills itself when LINUXNET_IPVLAN_TEST_KILL_AT names them (_netns.py).
KILL_AT_ENV = "LINUXNET_IPVLAN_TEST_KILL_AT"


@pytest.mark.parametrize("point, leaves", [
    ("netns-file", "file"), ("netns-unshared", "file"), ("netns-mounted", "namespace"),
])
def test_killed_inside_create_a_rerun_repairs(run_tasks, netns, point, leaves):
    name = netns.name()
    run = run_tasks(
        [
            netns_task("Killed", name, environment={KILL_AT_ENV: point}, ignore_errors=True),
            {"name": "Look", "ansible.builtin.stat": {"path": f"/run/netns/{name}", "get_checksum": False}},
            netns_task("Rerun", name),
            netns_task("Again", name),
        ]
    )
    killed = run.task("Killed")
    assert killed.failed and killed.get("rc") in (137, -9), killed
    looked = run.task("Look")["stat"]
    assert looked["exists"]
    if leaves == "file":
        assert looked["isreg"] and looked["size"] == 0
        assert run.task("Rerun")["actions"] == [f"repair namespace {name} (leftover file)"]
    else:
        assert not run.task("Rerun").changed
    assert not run.task("Again").changed
    assert [m["fstype"] for m in helpers.mounts_at(helpers.RUN_NETNS / name)] == ["nsfs"]
    helpers.run(["ip", "netns", "exec", name, "true"])


# --------------------------------------------------------------------------- names never leave /run/netns

def test_traversal_attempts_are_refused_everywhere(run_tasks):
    token = helpers.new_name()
    attempts = ["..", f"a/../../tmp/{token}", f"/tmp/{token}", f"../{token}", f"{token}\x00"]
    tasks = []
    for index, name in enumerate(attempts):
        tasks += [
            netns_task(f"Create {index}", name, ignore_errors=True),
            netns_task(f"Remove {index}", name, "absent", ignore_errors=True),
            {"name": f"Facts {index}", FACTS: {"netns": [name]}, "ignore_errors": True},
            {"name": f"Link {index}", "linuxnet.ipvlan.link": {"name": "lo", "netns": name}, "ignore_errors": True},
            {"name": f"Topology {index}", "linuxnet.ipvlan.topology": {"namespaces": [{"name": name}]},
             "ignore_errors": True},
        ]
    run = run_tasks(tasks)
    for index, name in enumerate(attempts):
        for label, param in (("Create", "name: "), ("Remove", "name: "), ("Facts", "netns: "), ("Link", "netns: "),
                             ("Topology", "namespaces[0].name: ")):
            if label == "Facts" and name.startswith("/"):
                # A path reaches a namespace without a name (test_netns_path.py): read, never created.
                assert run.task(f"{label} {index}")["ansible_facts"]["linuxnet_ipvlan"]["namespaces"][name] == {
                    "exists": False, "links": {}, "routes": []}
                continue
            helpers.assert_failed_cleanly(run.task(f"{label} {index}"), param)
    assert not Path("/tmp", token).exists() and not Path("/run", token).exists()
    assert not [entry for entry in os.listdir("/run/netns") if token in entry]
