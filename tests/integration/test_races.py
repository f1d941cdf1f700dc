# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Races on the host kernel: another tool, or a second play, changes the host while a module runs.

Exact races: the module stops itself between its read and its first action (or its
verification), iproute2 changes the host, the module resumes (a fault point,
plugins/module_utils/_faults.py). Another tool getting there first (EEXIST, ENOENT, ESRCH) is
read again and converged, never reported as a failure; so is a change another process makes
after the read. The host lock makes a second run of ours wait for the first.

Racing plays: two plays (pyroute2 0.9.7 and 0.7.2) run the same tasks while iproute2 does the
same thing; a test-only callback (callback_plugins/linuxnet_test_barrier.py) starts each task of
the collection in both plays at the same instant.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

import helpers
from faultlib import (
    OWNER,
    TOKEN_ENV,
    assert_no_traceback,
    ensure_collection_link,
    environ_of,
    host_lock_holders,
    module_utils,
    module_task,
    race_stopped_modules,
    state_now,
    stop_at,
    wait_blocked_on_host_lock,
)
from helpers import ip


class Races:
    """Tasks that stop at a fault point, each with what iproute2 does while it is stopped."""

    def __init__(self) -> None:
        self.tasks: list[dict] = []
        self.races: list[tuple[str, Callable[[int], None]]] = []

    def add(self, label: str, module: str, meanwhile: Callable[[], object], point: str = "action 0",
            again: tuple[Callable[[], object], ...] = (), **args) -> None:
        """MEANWHILE runs at the stop; each of AGAIN at a further stop at the same point (the
        point "action N" comes again in the next pass while nothing was applied)."""
        token = helpers.new_name()
        self.tasks.append(module_task(label, module, environment=stop_at(point, token), ignore_errors=True, **args))
        for action in (meanwhile, *again):
            self.races.append((token, lambda _pid, action=action: action()))

    def run(self, run_tasks):
        return race_stopped_modules(lambda: run_tasks(self.tasks), self.races)


def test_another_tool_gets_there_first(run_tasks, netns):
    """iproute2 makes or removes the very object between the module's read and its request."""
    new, old = netns.name(), netns()
    ns, gone_ns, replaced_ns = netns(lo_up=True), netns(), netns()
    ip("address", "add", "192.0.2.2/32", "dev", "lo", netns=ns)
    ip("route", "add", "203.0.113.0/24", "dev", "lo", netns=ns)
    races = Races()
    races.add("netns made", "netns", lambda: ip("netns", "add", new), name=new)
    races.add("netns removed", "netns", lambda: ip("netns", "delete", old), name=old, state="absent")
    races.add("address made", "address", lambda: ip("address", "add", "192.0.2.1/32", "dev", "lo", netns=ns),
              netns=ns, dev="lo", addresses=["192.0.2.1/32"])
    races.add("address removed", "address", lambda: ip("address", "del", "192.0.2.2/32", "dev", "lo", netns=ns),
              netns=ns, dev="lo", addresses=["192.0.2.2/32"], state="absent")
    races.add("route made", "route", lambda: ip("route", "add", "198.51.100.0/24", "dev", "lo", netns=ns),
              netns=ns, dst="198.51.100.0/24", dev="lo")
    races.add("route removed", "route", lambda: ip("route", "del", "203.0.113.0/24", netns=ns),
              netns=ns, dst="203.0.113.0/24", dev="lo", state="absent")
    # The namespace itself goes, or is replaced by a new one of the same name.
    races.add("namespace gone", "address", lambda: ip("netns", "delete", gone_ns),
              netns=gone_ns, dev="lo", addresses=["192.0.2.3/32"])
    races.add("namespace replaced", "address",
              lambda: (ip("netns", "delete", replaced_ns), ip("netns", "add", replaced_ns)),
              netns=replaced_ns, dev="lo", addresses=["192.0.2.4/32"])
    # Undone after it was applied, before the module verified it; a foreign address added while a
    # run makes a link's addresses exactly these. The kernel's notifications name who changed them:
    # another process, so a race, and a second pass converges.
    races.add("undone before verify", "route", lambda: ip("route", "del", "198.51.100.128/25", netns=ns),
              point="verify 1", netns=ns, dst="198.51.100.128/25", dev="lo")
    races.add("foreign address while purging", "address",
              lambda: ip("address", "add", "192.0.2.99/32", "dev", "lo", netns=ns),
              netns=ns, dev="lo", addresses=["127.0.0.1/8", "::1/128", "192.0.2.1/32", "192.0.2.5/32"], purge=True)
    run = races.run(run_tasks)
    assert_no_traceback(run)

    for label in ("netns made", "netns removed", "address made", "address removed", "route made",
                  "route removed", "namespace replaced", "undone before verify", "foreign address while purging"):
        assert not run.task(label).failed, run.task(label)
    for label in ("netns made", "address made", "route made"):
        # Planned, found made by the other tool (EEXIST), converged: nothing left for this task to change.
        # (A removal that finds its object gone has done its job: it reports changed.)
        assert run.task(label)["actions"] and not run.task(label).changed, run.task(label)
    assert helpers.netns_exists(new) and not helpers.netns_exists(old)
    state = state_now(ns)
    assert "lo 192.0.2.1/32" in state["addresses"] and "lo 192.0.2.2/32" not in state["addresses"]
    assert "198.51.100.0/24  lo main" in state["routes"] and "203.0.113.0/24  lo main" not in state["routes"]
    assert "198.51.100.128/25  lo main" in state["routes"]
    assert "lo 192.0.2.5/32" in state["addresses"] and "lo 192.0.2.99/32" not in state["addresses"]
    for label in ("undone before verify", "foreign address while purging"):
        assert run.task(label).changed and run.task(label).get("second_pass") is None, run.task(label)
    assert "lo 192.0.2.4/32" in state_now(replaced_ns)["addresses"]
    gone = run.task("namespace gone")
    assert gone.failed and gone_ns in gone.msg and "does not exist" in gone.msg, gone


def test_a_namespace_unmounted_as_it_is_entered_is_gone(netns):
    """`ip netns del` unmounts the namespace, then unlinks its file: a run that listed it and
    opens it in between holds a plain file. Entering that is "gone", not an error (setns said
    EINVAL: the racing plays below met it in one round in 120)."""
    netns_utils, session_utils = module_utils("_netns"), module_utils("_session")
    name = netns()
    session = session_utils.Session()
    try:
        assert name in session.names()
        helpers.run(["umount", str(Path("/run/netns") / name)])
        with pytest.raises(FileNotFoundError):
            with netns_utils.entered(name):
                pass
        assert not session.read(name).exists
    finally:
        session.close()
        (Path("/run/netns") / name).unlink(missing_ok=True)


def mounts_on(path: Path) -> int:
    point = str(path).encode()
    return sum(1 for line in Path("/proc/self/mountinfo").read_bytes().splitlines() if line.split()[4] == point)


def test_a_namespace_another_tool_is_creating_is_not_made_twice(run_tasks, netns):
    """iproute2 makes the empty file, then mounts the namespace on it. A run that meets the file in
    between must not take it for the leftover of an interrupted create and mount a namespace of
    its own there too: two namespaces stacked under one name (ip netns del then removes one)."""
    name, other = netns.name(), netns()
    path = Path("/run/netns") / name
    mounting: list[threading.Thread] = []

    def finish_the_other_create() -> None:
        # The file is as young as a create in progress (chmod sets its ctime); then what ip netns add
        # does last, the bind mount, happens while the module goes on.
        path.chmod(0)
        argv = ["mount", "--bind", f"/run/netns/{other}", str(path)]
        mounting.append(threading.Thread(target=helpers.run, args=(argv,)))
        mounting[0].start()

    races = Races()
    races.add("made meanwhile", "netns", lambda: path.touch(mode=0), again=(finish_the_other_create,), name=name)
    run = races.run(run_tasks)
    mounting[0].join()
    result = run.task("made meanwhile")
    assert not result.failed and not result.changed, result
    assert mounts_on(path) == 1 and helpers.netns_exists(name)


# --------------------------------------------------------------------------- racing plays

import race_barrier as barrier  # noqa: E402  pylint: disable=wrong-import-position

BARRIER_CALLBACK = "linuxnet_test_barrier"   # callback_plugins/linuxnet_test_barrier.py

ROUNDS_PER_KIND = 20
# The two plays: one runs the modules under pyroute2 0.9.7, the other under 0.7.2.
PLAYS = {"A": helpers.VENV_PYTHON, "B": helpers.SYSTEM_PYTHON}
TOOL = "ip"


def round_token(index: int) -> str:
    return f"race-{helpers.SESSION_ID}-{index}"


def wait_for_the_reader(index: int, timeout: float = 60) -> bool:
    """Wait until a module of round INDEX holds the host lock: it takes it just before its read,
    so iproute2 acting now hits the read or the moment between the read and the change."""
    marker = f"{TOKEN_ENV}={round_token(index)}".encode() + b"\0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(marker in environ_of(pid) for pid in host_lock_holders()):
            return True
        time.sleep(0.001)
    return False


@dataclass
class Round:
    """One race: the same task in both plays, and what iproute2 does at the same time."""
    kind: str
    task: dict
    tool: list[str]


@dataclass
class RaceOutcome:
    runs: dict
    tool_rc: list[int]
    spans: dict   # party -> [(start, end)] per round

    def results(self, index: int) -> list:
        return [self.runs[party].results_of_round[index] for party in PLAYS]


def play_tasks(rounds: list[Round]) -> list[dict]:
    """The rounds' tasks, named, their modules marked with the round's token."""
    tasks = []
    for index, one in enumerate(rounds):
        marked = {TOKEN_ENV: round_token(index)}
        task = dict(one.task, name=f"{index} {one.kind}")
        role = task.get("ansible.builtin.include_role")
        if role is not None:   # keywords reach a role's tasks through apply
            task["ansible.builtin.include_role"] = dict(role, apply={"environment": marked})
        else:
            task["environment"] = marked
        tasks.append(task)
    return tasks


def race(rounds: list[Round], workdir: Path) -> RaceOutcome:
    """Run the rounds in two plays and iproute2 at once; every round starts together (barrier)."""
    parties = len(PLAYS) + 1
    env = {
        "ANSIBLE_CALLBACKS_ENABLED": f"{helpers.CALLBACK_NAME},{BARRIER_CALLBACK}",
        barrier.DIR_ENV: str(workdir),
        barrier.PARTIES_ENV: str(parties),
    }
    runs, errors, tool_rc = {}, [], []
    tasks = play_tasks(rounds)

    def play(party: str) -> None:
        try:
            runs[party] = helpers.run_tasks(tasks, interpreter=PLAYS[party], timeout=1800,
                                            env=dict(env, **{barrier.PARTY_ENV: party}))
        except BaseException as exc:  # pylint: disable=broad-except  # re-raised below
            errors.append(exc)

    ensure_collection_link()
    threads = [threading.Thread(target=play, args=(party,)) for party in PLAYS]
    for thread in threads:
        thread.start()
    try:
        for index, one in enumerate(rounds):
            barrier.arrive(workdir, index, TOOL, parties, others_alive=lambda: all(t.is_alive() for t in threads))
            wait_for_the_reader(index)
            time.sleep(random.uniform(0, 0.02))
            tool_rc.append(helpers.run(one.tool, check=False).returncode)
    except BaseException:
        (workdir / barrier.ABORT).touch()   # the plays stop waiting
        raise
    finally:
        for thread in threads:
            thread.join()
        if errors:   # a play's own failure says more than the barrier's
            raise errors[0]
    spans = {party: [(float((workdir / f"{i}.{party}").read_text()), float((workdir / f"{i}.{party}.end").read_text()))
                     for i in range(len(rounds))] for party in PLAYS}
    return RaceOutcome(runs, tool_rc, spans)


def overlapped(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def ipn(netns: str | None, *argv: str) -> list[str]:
    return ["ip"] + (["-n", netns] if netns else []) + list(argv)


def test_two_plays_and_iproute2_at_the_same_instant(netns, veth, tmp_path):
    """Per kind 20 rounds: 10 make an object, 10 remove one that was there. In each round both
    plays run the same task, and iproute2 does the same thing as soon as one of their modules
    holds the host lock (it takes it just before its read)."""
    half = ROUNDS_PER_KIND // 2
    place = netns(lo_up=True)
    made = {kind: [netns.name() for _index in range(half)] for kind in ("netns", "topology", "role")}
    doomed = {kind: [netns() for _index in range(half)] for kind in ("netns", "topology", "role")}
    downs = [veth(place, place, up=False)[0] for _index in range(half)]
    ups = [veth(place, place, up=True)[0] for _index in range(half)]
    add_ips = [f"192.0.2.{10 + j}/32" for j in range(half)]
    del_ips = [f"192.0.2.{100 + j}/32" for j in range(half)]
    add_routes = [f"198.51.100.{8 * j}/29" for j in range(half)]
    del_routes = [f"203.0.113.{8 * j}/29" for j in range(half)]
    for j in range(half):
        ip("address", "add", del_ips[j], "dev", "lo", netns=place)
        ip("route", "add", del_routes[j], "dev", "lo", netns=place)

    def role(namespaces: list[dict]) -> dict:
        return {"ansible.builtin.include_role": {"name": "linuxnet.ipvlan.namespaces"},
                "vars": {"namespaces_list": namespaces, "namespaces_owner": OWNER}}

    rounds: list[Round] = []
    for j in range(half):
        rounds.append(Round("netns", module_task("", "netns", name=made["netns"][j]),
                            ipn(None, "netns", "add", made["netns"][j])))
    for j in range(half):
        rounds.append(Round("netns", module_task("", "netns", name=doomed["netns"][j], state="absent"),
                            ipn(None, "netns", "delete", doomed["netns"][j])))
    for j in range(half):
        rounds.append(Round("link", module_task("", "link", netns=place, name=downs[j], state="up", mtu=1400),
                            ipn(place, "link", "set", downs[j], "up")))
    for j in range(half):
        rounds.append(Round("link", module_task("", "link", netns=place, name=ups[j], state="down"),
                            ipn(place, "link", "set", ups[j], "down")))
    for j in range(half):
        rounds.append(Round("address", module_task("", "address", netns=place, dev="lo", addresses=[add_ips[j]]),
                            ipn(place, "address", "add", add_ips[j], "dev", "lo")))
    for j in range(half):
        rounds.append(Round("address", module_task("", "address", netns=place, dev="lo", addresses=[del_ips[j]],
                                                   state="absent"),
                            ipn(place, "address", "del", del_ips[j], "dev", "lo")))
    for j in range(half):
        rounds.append(Round("route", module_task("", "route", netns=place, dst=add_routes[j], dev="lo"),
                            ipn(place, "route", "add", add_routes[j], "dev", "lo")))
    for j in range(half):
        rounds.append(Round("route", module_task("", "route", netns=place, dst=del_routes[j], dev="lo", state="absent"),
                            ipn(place, "route", "del", del_routes[j], "dev", "lo")))
    routes = [{"dst": "198.51.100.0/24", "dev": "lo"}]
    for j in range(half):
        declared = [{"name": made["topology"][j], "routes": routes}]
        rounds.append(Round("topology", module_task("", "topology", namespaces=declared),
                            ipn(None, "netns", "add", made["topology"][j])))
    for j in range(half):
        declared = [{"name": doomed["topology"][j], "state": "absent"}]
        rounds.append(Round("topology", module_task("", "topology", namespaces=declared),
                            ipn(None, "netns", "delete", doomed["topology"][j])))
    for j in range(half):
        rounds.append(Round("role", role([{"name": made["role"][j]}]), ipn(None, "netns", "add", made["role"][j])))
    for j in range(half):
        rounds.append(Round("role", role([{"name": doomed["role"][j], "state": "absent"}]),
                            ipn(None, "netns", "delete", doomed["role"][j])))

    outcome = race(rounds, tmp_path)

    collisions = {}
    for party, run in outcome.runs.items():
        assert_no_traceback(run)
        ours = [r for r in run if r.action.startswith(barrier.COLLECTION_PREFIX)]
        assert len(ours) == len(rounds) and not any(r.failed for r in ours), party
        run.results_of_round = ours
    for index, one in enumerate(rounds):
        results = outcome.results(index)
        # The host lock: the second run reads what the first left, so at most one of them changes.
        assert sum(r.changed for r in results) <= 1, (index, one, results)
        # Planned, then found done by another (the other play or iproute2): converged, not reported.
        collisions.setdefault(one.kind, 0)
        collisions[one.kind] += sum(bool(r.get("actions")) and not r.changed for r in results)

    overlap = sum(overlapped(outcome.spans["A"][i], outcome.spans["B"][i]) for i in range(len(rounds)))
    print(f"\nraces: {len(rounds)} rounds ({ROUNDS_PER_KIND} per kind); the two plays' tasks overlapped in "
          f"{overlap}; planned, then found done by another: {collisions}; iproute2 lost the race "
          f"{sum(rc != 0 for rc in outcome.tool_rc)} times")

    names = helpers.netns_names()
    for kind in ("netns", "topology", "role"):
        assert not set(made[kind]) - names and not set(doomed[kind]) & names, (kind, set(made[kind]) - names)
    state = state_now(place)
    assert all(state["links"][dev] == (True, 1400) for dev in downs), state["links"]
    assert all(not state["links"][dev][0] for dev in ups), state["links"]
    assert {f"lo {cidr}" for cidr in add_ips} <= set(state["addresses"])
    assert not {f"lo {cidr}" for cidr in del_ips} & set(state["addresses"])
    assert {f"{dst}  lo main" for dst in add_routes} <= set(state["routes"])
    assert not {f"{dst}  lo main" for dst in del_routes} & set(state["routes"])
    for name in made["topology"]:
        assert "198.51.100.0/24  lo main" in state_now(name)["routes"], name


def test_a_second_run_waits_for_the_host_lock(netns):
    """A run stopped between its read and its first action holds the host lock: the same task
    started meanwhile waits for it (it has the lock file open, /proc/locks names the first as
    holder), then reads what the first made and changes nothing."""
    name = netns.name()
    first_token, second_token = helpers.new_name(), helpers.new_name()
    second: dict = {}

    def start_second(_pid: int) -> None:
        task = module_task("second", "netns", name=name, environment={TOKEN_ENV: second_token})
        second["thread"] = threading.Thread(
            target=lambda: second.update(run=helpers.run_tasks([task], interpreter=helpers.SYSTEM_PYTHON)))
        second["thread"].start()
        wait_blocked_on_host_lock(second_token, second["thread"].is_alive)

    first = race_stopped_modules(
        lambda: helpers.run_tasks([module_task("first", "netns", name=name,
                                               environment=stop_at("action 0", first_token))],
                                  interpreter=helpers.VENV_PYTHON),
        [(first_token, start_second)])
    second["thread"].join()
    assert first.task("first").changed and first.task("first")["actions"] == [f"create namespace {name}"]
    assert not second["run"].task("second").changed and second["run"].task("second")["actions"] == []
    assert helpers.netns_exists(name)
