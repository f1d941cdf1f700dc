# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults on the host kernel, each followed by re-runs of the declaration: the first repairs it
(changed), the second changes nothing, and `ip -j` then shows the state the first converge made.

Out of band (iproute2 in the middle of the play): a namespace deleted; an address, a route and the
MTU changed; a link taken down; a link moved to another namespace and one deleted (our modules do
not create veth links: the tasks refuse cleanly, destroy nothing else, and repair once the link is
back). In band: the module SIGKILLed before each action of a plan and before its verification (a
fault point, plugins/module_utils/_faults.py). ipvlan faults are proven in the VMs (tests/vmlab).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import ansible
import pytest

import helpers
from faultlib import (
    address_churn,
    assert_no_traceback,
    ip_task,
    kill_at,
    module_task,
    snapshot_task,
    state_from,
    state_now,
)

# --------------------------------------------------------------------------- declarations


def lo_declaration(step: str, ns: str, topo: str) -> list[dict]:
    """A namespace made by the single-object modules, one by topology: both fully repairable."""
    return [
        module_task(f"{step}: netns", "netns", name=ns),
        module_task(f"{step}: lo up", "link", netns=ns, name="lo", state="up"),
        module_task(f"{step}: route via lo", "route", netns=ns, dst="198.51.100.0/24", dev="lo"),
        module_task(f"{step}: topology", "topology",
                    namespaces=[{"name": topo, "routes": [{"dst": "203.0.113.0/24", "dev": "lo"}]}]),
    ]


def veth_declaration(step: str, ns: str, dev: str, **task: object) -> list[dict]:
    """A veth end in NS: up, MTU 1400, two addresses, routes through gateways on it."""
    return [
        module_task(f"{step}: link", "link", netns=ns, name=dev, state="up", mtu=1400, **task),
        module_task(f"{step}: addresses", "address", netns=ns, dev=dev, nodad=True,
                    addresses=["192.0.2.10/24", "2001:db8:2::10/64"], **task),
        module_task(f"{step}: route v4", "route", netns=ns, dst="203.0.113.0/24", gateway="192.0.2.1", **task),
        module_task(f"{step}: route v6", "route", netns=ns, dst="2001:db8:3::/64", gateway="2001:db8:2::1", **task),
    ]


VETH_TASKS = {"link", "addresses", "route v4", "route v6"}


def changed_tasks(run, step: str) -> set[str]:
    prefix = f"{step}: "
    return {r.task[len(prefix):] for r in run if r.task.startswith(prefix) and r.changed}


# --------------------------------------------------------------------------- out of band


def test_out_of_band_faults_are_repaired(netns, veth):
    """Under pyroute2 0.7.2 (the killed runs below use 0.9): the repairs use the same actions as
    every module test, which run under both."""
    ns, topo = netns.name(), netns.name()
    wns, peer_ns = netns(lo_up=True), netns()
    dev, peer = veth(wns, peer_ns, up=True)
    helpers.ip("route", "add", "198.51.100.0/24", "dev", "lo", netns=wns)   # what no fault below touches
    recreate = [
        ip_task("E: recreate the veth", "link", "add", dev, "netns", wns, "type", "veth", "peer", "name", peer,
                "netns", peer_ns),
        ip_task("E: peer up", "link", "set", peer, "up", netns=peer_ns),
    ]
    tasks = (
        lo_declaration("setup", ns, topo) + veth_declaration("setup", wns, dev)
        + [snapshot_task("reference", ns), snapshot_task("reference T", topo), snapshot_task("reference W", wns)]
        # A: namespaces deleted
        + [ip_task("A: delete", "netns", "delete", ns), ip_task("A: delete T", "netns", "delete", topo)]
        + lo_declaration("A repair", ns, topo) + lo_declaration("A again", ns, topo)
        + [snapshot_task("A", ns), snapshot_task("A T", topo)]
        # B: an address and a route removed, the MTU changed
        + [ip_task("B: address", "address", "del", "192.0.2.10/24", "dev", dev, netns=wns),
           ip_task("B: route", "-6", "route", "del", "2001:db8:3::/64", netns=wns),
           ip_task("B: mtu", "link", "set", dev, "mtu", "1500", netns=wns)]
        + veth_declaration("B repair", wns, dev) + veth_declaration("B again", wns, dev) + [snapshot_task("B", wns)]
        # C: the link taken down (the kernel flushes its IPv6 addresses and its routes)
        + [ip_task("C: down", "link", "set", dev, "down", netns=wns)]
        + veth_declaration("C repair", wns, dev) + veth_declaration("C again", wns, dev) + [snapshot_task("C", wns)]
        # D: the link moved to another namespace, then back
        + [ip_task("D: move", "link", "set", dev, "netns", peer_ns, netns=wns)]
        + veth_declaration("D refused", wns, dev, ignore_errors=True)
        + [snapshot_task("D moved W", wns), snapshot_task("D moved M", peer_ns)]
        + [ip_task("D: back", "link", "set", dev, "netns", wns, netns=peer_ns)]
        + veth_declaration("D repair", wns, dev) + veth_declaration("D again", wns, dev) + [snapshot_task("D", wns)]
        # E: the link deleted (its peer with it), then made again
        + [ip_task("E: delete", "link", "del", dev, netns=wns)]
        + veth_declaration("E refused", wns, dev, ignore_errors=True) + [snapshot_task("E deleted", wns)]
        + recreate
        + veth_declaration("E repair", wns, dev) + veth_declaration("E again", wns, dev) + [snapshot_task("E", wns)]
    )
    run = helpers.run_tasks(tasks, interpreter=helpers.SYSTEM_PYTHON)
    assert_no_traceback(run)

    def state(label: str) -> dict:
        return state_from(run.task(label))

    reference, reference_t, reference_w = state("reference"), state("reference T"), state("reference W")
    assert "198.51.100.0/24  lo main" in reference["routes"], reference
    assert "203.0.113.0/24  lo main" in reference_t["routes"], reference_t
    assert reference_w["links"][dev] == (True, 1400)
    assert {f"{dev} 192.0.2.10/24", f"{dev} 2001:db8:2::10/64"} <= set(reference_w["addresses"])
    assert {f"203.0.113.0/24 192.0.2.1 {dev} main",
            f"2001:db8:3::/64 2001:db8:2::1 {dev} main"} <= set(reference_w["routes"])

    # A: everything in the deleted namespaces is made again, then nothing changes.
    assert changed_tasks(run, "A repair") == {"netns", "lo up", "route via lo", "topology"}
    assert changed_tasks(run, "A again") == set()
    assert (state("A"), state("A T")) == (reference, reference_t)

    for step in "BCDE":
        assert changed_tasks(run, f"{step} repair") == VETH_TASKS, step
        assert changed_tasks(run, f"{step} again") == set(), step
        assert state(step) == reference_w, step

    # D and E: without the link, what needs it refuses cleanly; the rest stays as it was.
    for step in ("D refused", "E refused"):
        for name in VETH_TASKS:
            result = run.task(f"{step}: {name}")
            assert result.failed and not result.changed, result
            # (a route without dev: its gateway is not reachable through any link left)
            assert f"{dev} not found" in result.msg or "is not reachable" in result.msg, result
    for label in ("D moved W", "E deleted"):
        kept = state(label)
        assert dev not in kept["links"] and "198.51.100.0/24  lo main" in kept["routes"], (label, kept)
    assert dev in state("D moved M")["links"]
    assert state_now(wns) == reference_w


# --------------------------------------------------------------------------- killed


def killed_plan(nss: list[str], gone: str) -> dict:
    """One topology run with seven actions: create two namespaces, delete one, bring lo up in the
    two (with the marker), add an IPv4 and an IPv6 route."""
    routes = [{"dst": "198.51.100.0/24", "dev": "lo"}, {"dst": "2001:db8:1::/64", "dev": "lo"}]
    return {"namespaces": [{"name": nss[0], "routes": routes}, {"name": nss[1]}, {"name": gone, "state": "absent"}]}


PLAN_LENGTH = 7
KILL_POINTS = [f"action {index}" for index in range(PLAN_LENGTH)] + ["verify 1"]


def test_killed_at_each_step_of_a_plan_then_repaired(netns):
    """SIGKILL before each action and before verification: the re-run does exactly what was left.

    One pyroute2 version: what is proven here is the runner's, not the library's.
    """
    cases = [([netns.name(), netns.name()], netns.name()) for _point in KILL_POINTS]
    tasks = [module_task("setup", "topology", namespaces=[{"name": gone} for _nss, gone in cases])]
    for point, (nss, gone) in zip(KILL_POINTS, cases):
        args = killed_plan(nss, gone)
        tasks += [
            module_task(f"{point}: plan", "topology", check_mode=True, **args),
            module_task(f"{point}: killed", "topology", environment=kill_at(point), ignore_errors=True, **args),
            module_task(f"{point}: repair", "topology", **args),
            module_task(f"{point}: again", "topology", **args),
        ]
    run = helpers.run_tasks(tasks, interpreter=helpers.VENV_PYTHON)
    assert_no_traceback(run)

    expected = None
    for index, (point, (nss, gone)) in enumerate(zip(KILL_POINTS, cases)):
        planned = run.task(f"{point}: plan")["actions"]
        assert len(planned) == PLAN_LENGTH, planned
        killed, repair, again = (run.task(f"{point}: {step}") for step in ("killed", "repair", "again"))
        assert killed.failed and not killed.get("actions"), killed   # died: no result of its own
        # The re-run does exactly what the kill left undone; after verify, nothing.
        assert repair["actions"] == planned[index:], (point, repair)
        assert repair.changed == (index < PLAN_LENGTH), (point, repair)
        assert not again.changed and again["actions"] == [], (point, again)
        assert not helpers.netns_exists(gone)
        state = [state_now(name) for name in nss]
        if expected is None:
            expected = state
        assert _renamed(state, nss) == _renamed(expected, cases[0][0]), point
    assert "198.51.100.0/24  lo main" in expected[0]["routes"] and "2001:db8:1::/64  lo main" in expected[0]["routes"]
    assert expected[1]["links"]["lo"][0] and expected[1]["routes"] == []


def _renamed(state: list[dict], names: list[str]) -> str:
    text = json.dumps(state, sort_keys=True)
    for number, name in enumerate(names):
        text = text.replace(name, f"<ns{number}>")
    return text


@pytest.mark.parametrize("point", ["action 0", "verify 1"])
def test_killed_run_releases_the_host_lock(netns, point):
    """A run killed while it holds the host lock does not block the next one (flock dies with it)."""
    name = netns.name()
    run = helpers.run_tasks(
        [
            module_task("killed", "netns", name=name, environment=kill_at(point), ignore_errors=True),
            module_task("next", "netns", name=name),
        ],
        interpreter=helpers.VENV_PYTHON,
        timeout=120,
    )
    assert run.task("killed").failed
    assert run.task("next").changed == (point == "action 0")
    assert helpers.netns_exists(name)


# --------------------------------------------------------------------------- interrupted dumps

STABLE_ADDRESSES = 1000   # enough for a dump of several messages, which a change can interrupt


@pytest.fixture
def crowded(netns, bridge):
    """(namespace, dev): a link with STABLE_ADDRESSES addresses 10.x.y.1/32."""
    ns = netns()
    dev = bridge(ns, up=True)
    commands = "".join(f"address add 10.{i // 250}.{i % 250}.1/32 dev {dev}\n" for i in range(STABLE_ADDRESSES))
    proc = subprocess.run(["ip", "-n", ns, "-batch", "-"], input=commands, text=True, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return ns, dev


def test_interrupted_dumps_are_read_again(python_interpreter, run_tasks, crowded, tmp_path):
    """Addresses change in bursts while the reader dumps them: the kernel flags dumps as interrupted
    (pyroute2 0.7.2 raised that as a traceback, 0.9.7 passed the flag on), the reader reads again."""
    ns, dev = crowded
    probe = [python_interpreter, str(Path(__file__).with_name("dump_probe.py")), ns, "10", dev, str(STABLE_ADDRESSES)]
    # The probe imports module_utils, which need ansible's module_utils: the ones of the test's
    # ansible-core, without the rest of its virtualenv (its pyroute2 would shadow Debian's).
    (tmp_path / "ansible").symlink_to(Path(ansible.__file__).parent)
    env = dict(os.environ, PYTHONPATH=f"{helpers.COLLECTIONS_PATH}:{tmp_path}")
    tasks = [module_task(f"add {i}", "address", netns=ns, dev=dev, addresses=[f"192.0.2.{i}/32"]) for i in range(1, 5)]
    counts, attempts = {"interrupted": 0, "dumps": 0}, 0
    with address_churn(ns, dev):
        run = run_tasks(tasks)
        # The kernel may not interrupt any dump of one probe: probe again, a bounded number of times.
        while counts["interrupted"] == 0 and attempts < 5:
            attempts += 1
            proc = subprocess.run(probe, capture_output=True, text=True, env=env, timeout=300, check=False)
            assert proc.returncode == 0, proc.stderr
            found = json.loads(proc.stdout)
            assert found["consistent"], found
            counts = {key: counts[key] + found[key] for key in counts}
    assert_no_traceback(run)
    assert [r.changed for r in run] == [True] * 4
    assert {f"192.0.2.{i}/32" for i in range(1, 5)} <= helpers.cidrs(ns, dev)
    assert counts["interrupted"] > 0, counts
    print(f"\ninterrupted dumps ({Path(python_interpreter).name}): {counts['interrupted']} of {counts['dumps']} "
          f"in {attempts} probe(s) of 10 reads")
