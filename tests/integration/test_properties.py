# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based tests on the host kernel: random start states, random tasks, every prediction checked.

Each example builds a start state with ``ip`` (scenarios.py), then runs one to three module tasks.
For each task:

* check mode changes nothing in the kernel;
* the real run does what check mode said: same actions, same diff, same return values; or, when
  check mode refused, the real run refuses with the same message and changes nothing;
* verify after apply finds nothing left to do: the same specs planned on a fresh read give no
  action (the harness re-plans them; the runner will do the same by itself);
* a second run reports changed=false with no actions and changes nothing.

After the tasks, linuxnet.ipvlan.facts equals what ``ip -j -d`` shows (kernel_view.py).

The modules run in process (inprocess.py: milliseconds per run): under this virtualenv
(pyroute2 0.9.x) and, fewer examples, under /usr/bin/python3 (Debian's pyroute2 0.7.2) through
the same harness in a child process. test_harness_is_faithful runs a few cases through
ansible-playbook as well and compares the results. Everything runs in a private /run/netns
(private_netns.py), so purge sees only the examples' namespaces.

Profiles (HYPOTHESIS_PROFILE): ``ci`` (default, derandomized: the same examples on every run,
bounded for `make test`) and ``long`` (random, LINUXNET_PROPERTY_EXAMPLES examples, failures kept
in build/hypothesis so the next run replays them first): `make test-properties-long`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import helpers
import kernel_view
import pytest
import scenarios
from hypothesis import HealthCheck, event, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from inprocess import Client, Harness
from private_netns import private_run_netns

PREFIX = helpers.SESSION_PREFIX + "p"  # every name an example uses starts with it
CI_EXAMPLES = 160
SYSTEM_SHARE = 4  # /usr/bin/python3 (pyroute2 0.7) runs a quarter of the examples

settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=int(os.environ.get("LINUXNET_PROPERTY_EXAMPLES", "2000")), deadline=None,
    database=DirectoryBasedExampleDatabase(str(helpers.REPO_ROOT / "build" / "hypothesis")), print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
ASSUMED = " (check mode assumes an earlier task of the play provides it)"
# What check mode assumes an earlier task provides (the planner's missing()): namespaces, links,
# links up, a gateway made reachable.
ASSUMABLE = ("does not exist; create it first", "not found in", "is down", "is not reachable in")
RETURNS_IGNORED = {"changed", "failed", "msg", "actions", "diff", "warnings", "deprecations", "second_pass", "invocation"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def private_netns():
    """A private /run/netns for the module (see private_netns.py); fails if an example leaked."""
    with private_run_netns():
        try:
            yield
        finally:
            left = cleanup()
        assert not left, f"examples left namespaces/links behind: {left}"


@pytest.fixture(scope="module")
def venv_harness(private_netns):  # pylint: disable=redefined-outer-name,unused-argument
    return Harness()


@pytest.fixture(scope="module")
def system_harness(private_netns):  # pylint: disable=redefined-outer-name,unused-argument
    """The harness served by /usr/bin/python3 with Debian's pyroute2 (and this venv's ansible)."""
    import ansible  # pylint: disable=import-outside-toplevel

    with tempfile.TemporaryDirectory(prefix="lnt-ansible-") as path:
        # Only ansible on the path: the venv's site-packages would bring its pyroute2 too.
        Path(path, "ansible").symlink_to(Path(ansible.__file__).parent)
        client = Client(str(helpers.SYSTEM_PYTHON), path)
        try:
            version = client.versions()["pyroute2"]
            if not version.startswith("0.7."):
                pytest.fail(f"{helpers.SYSTEM_PYTHON} has pyroute2 {version}, 0.7.x expected (python3-pyroute2)")
            yield client
        finally:
            client.close()


# --------------------------------------------------------------------------- the properties


@settings(PROFILE)
@given(scenario=scenarios.scenarios(PREFIX))
def test_modules_do_what_check_mode_says(venv_harness, scenario):  # pylint: disable=redefined-outer-name
    exercise(venv_harness, scenario)


@settings(PROFILE, max_examples=max(PROFILE.max_examples // SYSTEM_SHARE, 10))
@given(scenario=scenarios.scenarios(PREFIX))
def test_modules_do_what_check_mode_says_pyroute2_07(system_harness, scenario):  # pylint: disable=redefined-outer-name
    exercise(system_harness, scenario)


def exercise(runner, scenario) -> None:
    names = scenario.namespaces
    try:
        build(scenario.start)
        world = kernel_view.settle(names, PREFIX)
        for task in scenario.tasks:
            world = run_task(runner, task, names, world)
        assert_facts_match(runner, names)
    finally:
        cleanup()


def run_task(runner, task, names, world):
    """Check, real, verify, again: returns the kernel as the task left it."""
    before = kernel_view.snapshot(world)
    check = runner.run(task.module, task.params, check=True, diff=True)
    assert_unchanged(before, names, f"check mode changed the kernel: {check}")
    real = runner.run(task.module, task.params, diff=True)
    event(f"{task.module}: {'refused' if check['failed'] else 'changed' if check['changed'] else 'unchanged'}")
    if real.get("second_pass"):
        event(f"{task.module}: second pass {real['second_pass']}")
    world = kernel_view.settle(names, PREFIX)
    after = kernel_view.snapshot(world)
    assumed = [w for w in check.get("warnings", []) if w.endswith(ASSUMED)]
    if check["failed"] or assumed:
        # A refusal, or check mode assuming what an earlier task of a play would provide: the
        # real run refuses with that same message and changes nothing.
        expected = check["msg"] if check["failed"] else assumed[0][:-len(ASSUMED)]
        assert real["failed"], f"check mode refused or assumed ({expected}), the real run did not: {real}"
        # (Check mode may assume a missing dependency first and refuse something further on.)
        assert real["msg"] == expected or (check["failed"] and any(m in real["msg"] for m in ASSUMABLE)), \
            f"check mode said {expected!r}, the real run {real['msg']!r}"
        assert not real["changed"], f"a refused task reported a change: {real}"
        assert_unchanged(before, names, f"a refused task changed the kernel: {real}")
        return world
    assert not real["failed"], f"check mode predicted {check['actions']}, the real run failed: {real}"
    assert (real["changed"], real["actions"]) == (check["changed"], check["actions"]), \
        f"check mode predicted {check['actions']}, the real run did {real['actions']}"
    assert real.get("diff") == check.get("diff"), \
        "diff: check mode vs real run\n" + kernel_view.diff_text(check.get("diff"), real.get("diff"))
    assert returned(real) == returned(check), \
        "return values: check mode vs real run\n" + kernel_view.diff_text(returned(check), returned(real))
    if not real["changed"]:
        assert_unchanged(before, names, "a task that reported no change changed the kernel")
    residual = runner.residual()
    assert residual == [], f"the kernel did not end as planned: still to do {residual}"
    again = runner.run(task.module, task.params)
    assert not again["failed"] and not again["changed"] and again["actions"] == [], f"second run: {again}"
    assert_unchanged(after, names, "a second run that reported no change changed the kernel")
    return world


def assert_unchanged(snapshot, names, message) -> None:
    now = kernel_view.snapshot(kernel_view.read(names, PREFIX))
    assert now == snapshot, message + "\n" + "\n".join(kernel_view.changes(snapshot, now))


def returned(result: dict) -> dict:
    return {key: value for key, value in result.items() if key not in RETURNS_IGNORED}


def assert_facts_match(runner, names) -> None:
    result = runner.run("facts", {"netns": names, "include_root": True})
    expected = kernel_view.facts(kernel_view.read(names, PREFIX))
    assert not result["failed"], result
    got = result["ansible_facts"]["linuxnet_ipvlan"]
    for name in names:
        shown = dict(got["namespaces"][name])
        shown["routes"] = sorted(shown["routes"], key=kernel_view.route_order)
        assert shown == expected[name], f"facts of {name} vs ip\n" + kernel_view.diff_text(expected[name], shown)
    root_links = {name: link for name, link in got["root"]["links"].items() if name.startswith(PREFIX)}
    assert root_links == expected[None]["links"], \
        "facts of the root namespace's test links vs ip\n" + kernel_view.diff_text(expected[None]["links"], root_links)


# --------------------------------------------------------------------------- kernel objects


def build(start: scenarios.Start) -> None:
    """One ``ip -batch`` per namespace: the commands that must succeed, then those that may not."""
    for netns, lines in scenarios.batches(start.required):
        helpers.run(["ip", *netns, "-batch", "-"], stdin=lines)
    for netns, lines in scenarios.batches(start.optional):
        helpers.run(["ip", *netns, "-force", "-batch", "-"], stdin=lines, check=False)


def cleanup() -> list[str]:
    """Remove the examples' root links and namespaces; return what was there.

    Root links first: a veth goes with its peer at once, but with a namespace only later, and the
    next example reuses the names.
    """
    links = [link["ifname"] for link in kernel_view.read([], PREFIX)[None]["links"]]
    namespaces = [name for name in kernel_view.netns_list() if name.startswith(PREFIX)]
    lines = "".join(f"link delete dev {name}\n" for name in links)
    lines += "".join(f"netns delete {name}\n" for name in namespaces)
    if lines:
        helpers.run(["ip", "-force", "-batch", "-"], stdin=lines, check=False)
    still = [name for name in kernel_view.netns_list() if name.startswith(PREFIX)]
    still += [link["ifname"] for link in kernel_view.read([], PREFIX)[None]["links"]]
    assert not still, f"could not remove {still}"
    return links + namespaces


# --------------------------------------------------------------------------- the harness is faithful

N0, N1, N2, _N3 = scenarios.namespace_names(PREFIX)
V0A, V0B = scenarios.veth_names(PREFIX, 0)
V1A, V1B = scenarios.veth_names(PREFIX, 1)
OWNED = "managed-by=linuxnet.ipvlan owner=tenant-a"
FAITHFUL = {
    # purge by owner, exact routes through a veth, a namespace taking its veth peer with it
    "topology": (
        [["netns", "add", N0], ["netns", "add", N1], ["netns", "add", N2],
         ["-n", N1, "link", "set", "dev", "lo", "alias", OWNED], ["-n", N2, "link", "set", "dev", "lo", "alias", OWNED],
         ["link", "add", "name", V0A, "netns", N0, "type", "veth", "peer", "name", V0B, "netns", N2],
         ["link", "add", "name", V1A, "netns", N1, "type", "veth", "peer", "name", V1B],
         ["-n", N0, "link", "set", "dev", V0A, "up"], ["-n", N0, "address", "add", "192.0.2.1/24", "dev", V0A],
         ["-n", N0, "route", "add", "203.0.113.0/24", "via", "192.0.2.254", "proto", "static"]],
        "topology", {"namespaces": [{"name": N0, "routes": [
            {"dst": "198.51.100.0/24", "gateway": "192.0.2.254"},
            {"dst": "2001:db8:100::/64", "type": "unreachable"}]}, {"name": N2}],
            "owner": "tenant-a", "purge": True}),
    # secondaries: a primary that goes takes them with it, those to keep come back
    "address": (
        [["netns", "add", N0], ["-n", N0, "link", "set", "dev", "lo", "up"],
         ["-n", N0, "address", "add", "192.0.2.1/24", "dev", "lo"],
         ["-n", N0, "address", "add", "192.0.2.2/24", "dev", "lo"],
         ["-n", N0, "address", "add", "2001:db8::1/64", "dev", "lo", "nodad"]],
        "address", {"netns": N0, "dev": "lo", "addresses": ["192.0.2.2/24", "198.51.100.1/24", "2001:db8::2/64"],
                    "purge": True, "nodad": True}),
    # a refusal: the same message, nothing changed
    "route refused": (
        [["netns", "add", N0], ["-n", N0, "link", "set", "dev", "lo", "up"],
         ["-n", N0, "address", "add", "2001:db8::1/64", "dev", "lo", "nodad"]],
        "route", {"netns": N0, "dst": "default", "gateway": "2001:db8::fe", "dev": "lo"}),
}
COMPARED = {"changed", "failed", "msg", "actions", "diff", "warnings"}


@pytest.mark.parametrize("case", list(FAITHFUL))
def test_harness_is_faithful(case, python_interpreter, private_netns, request):  # pylint: disable=redefined-outer-name,unused-argument
    """The in-process harness returns what ansible-playbook returns, under both interpreters:
    check mode, the real run and a second run of one task, on the same start state."""
    commands, module, params = FAITHFUL[case]
    runner = request.getfixturevalue("venv_harness" if python_interpreter == str(helpers.VENV_PYTHON)
                                     else "system_harness")
    names = scenarios.namespace_names(PREFIX)
    try:
        build(scenarios.Start(required=commands))
        kernel_view.settle(names, PREFIX)
        check = runner.run(module, params, check=True, diff=True)
        task = {"linuxnet.ipvlan." + module: params, "diff": True}
        play = helpers.run_tasks([dict(task, name="check", check_mode=True), dict(task, name="real"),
                                  dict(task, name="again")],
                                 interpreter=python_interpreter, expect_failure=check["failed"])
        assert_same_result(check, play.task("check"))
        if check["failed"]:
            return
        real = play.task("real")
        assert real["actions"] == check["actions"] and real.diff == check.get("diff")
        assert returned(real) == returned(check)
        assert_same_result(runner.run(module, params, diff=True), play.task("again"))
    finally:
        cleanup()


def assert_same_result(inprocess: dict, playbook) -> None:
    keys = (set(inprocess) - RETURNS_IGNORED) | (COMPARED & (set(inprocess) | set(playbook)))
    mine = {key: inprocess.get(key) for key in keys}
    theirs = {key: playbook.get(key) for key in keys}
    theirs["warnings"] = playbook.get("warnings") or None
    mine["warnings"] = inprocess.get("warnings") or None
    assert mine == theirs, "in process vs ansible-playbook\n" + kernel_view.diff_text(theirs, mine)
