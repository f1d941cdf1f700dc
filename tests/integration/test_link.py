# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan.link on the host kernel: admin state and mtu, read back with `ip -j -d link`."""

from __future__ import annotations

import json

import helpers
from helpers import assert_failed_cleanly, cidrs, is_up, link, netns_exists

MODULE = "linuxnet.ipvlan.link"


def link_task(label: str, **args) -> dict:
    extra = {key: args.pop(key) for key in ("check_mode", "diff", "ignore_errors") if key in args}
    return {"name": label, MODULE: args, **extra}


def link_show_task(label: str, netns: str, dev: str) -> dict:
    """`ip -j -d link show` as a task: the kernel's view between two module tasks of one play."""
    argv = ["ip", "-j", "-d", "-n", netns, "link", "show", "dev", dev]
    return {"name": label, "ansible.builtin.command": {"argv": argv}, "changed_when": False}


def shown(result) -> dict:
    return json.loads(result["stdout"])[0]


def state_of(netns: str, dev: str) -> tuple[bool, int]:
    entry = link(netns, dev)
    assert entry is not None, f"{dev} is gone from {netns}"
    return is_up(entry), entry["mtu"]


def test_veth_up_mtu_down(run_tasks, netns, veth):
    ns_a, ns_b = netns(), netns()
    dev, peer = veth(ns_a, ns_b)
    up = {"netns": ns_a, "name": dev, "state": "up", "mtu": 1400}
    mtu_only = {"netns": ns_a, "name": dev, "mtu": 9000}
    down = {"netns": ns_a, "name": dev, "state": "down"}
    run = run_tasks(
        [
            link_task("Check up", check_mode=True, diff=True, **up),
            link_show_task("Show after check", ns_a, dev),
            link_task("Up", diff=True, **up),
            link_show_task("Show after up", ns_a, dev),
            link_task("Up again", diff=True, **up),
            link_task("Check up again", check_mode=True, **up),
            link_task("Check mtu only", check_mode=True, diff=True, **mtu_only),
            link_task("Mtu only", diff=True, **mtu_only),
            link_task("Mtu only again", **mtu_only),
            link_task("Check down", check_mode=True, diff=True, **down),
            link_task("Down", diff=True, **down),
            link_task("Down again", **down),
        ]
    )
    where = f"{dev} in namespace {ns_a}"
    check, real = run.task("Check up"), run.task("Up")
    after_check = shown(run.task("Show after check"))
    assert "UP" not in after_check["flags"] and after_check["mtu"] == 1500, "check mode changed the link"
    assert check.changed and check["actions"] == [f"set {where} up, mtu 1400"]
    assert real.changed and real["actions"] == check["actions"]
    assert real.diff == check.diff == {
        "before": {ns_a: {"state": "present", "links": {dev: {"state": "down", "mtu": 1500}}}},
        "after": {ns_a: {"state": "present", "links": {dev: {"state": "up", "mtu": 1400}}}},
    }
    assert real["link"]["state"] == "up" and real["link"]["mtu"] == 1400 and real["link"]["kind"] == "veth"
    after_up = shown(run.task("Show after up"))
    assert "UP" in after_up["flags"] and after_up["mtu"] == 1400
    for label in ("Up again", "Check up again", "Mtu only again", "Down again"):
        assert not run.task(label).changed and run.task(label)["actions"] == [], label

    check, real = run.task("Check mtu only"), run.task("Mtu only")
    assert real["actions"] == check["actions"] == [f"set {where} mtu 9000"]
    assert real.diff == check.diff
    assert real.diff["after"][ns_a]["links"][dev] == {"state": "up", "mtu": 9000}

    check, real = run.task("Check down"), run.task("Down")
    assert real["actions"] == check["actions"] == [f"set {where} down"]
    assert real.diff == check.diff
    assert real.diff["after"][ns_a]["links"][dev] == {"state": "down", "mtu": 9000}
    assert real["link"]["state"] == "down"

    assert state_of(ns_a, dev) == (False, 9000)
    assert state_of(ns_b, peer) == (False, 1500), "the peer changed too"


def test_loopback(run_tasks, netns):
    ns = netns()
    up = {"netns": ns, "name": "lo", "state": "up", "mtu": 16384}
    default_mtu = {"netns": ns, "name": "lo", "mtu": 65536}  # lo's own default, above the Ethernet maximum
    run = run_tasks(
        [
            link_task("Check up", check_mode=True, diff=True, **up),
            link_task("Up", diff=True, **up),
            link_task("Up again", **up),
            link_task("Default mtu", diff=True, **default_mtu),
            link_task("Default mtu again", **default_mtu),
        ]
    )
    check, real = run.task("Check up"), run.task("Up")
    assert real.changed and real["actions"] == check["actions"] == [f"set lo in namespace {ns} up, mtu 16384"]
    assert real.diff == check.diff
    assert real.diff["before"][ns]["links"]["lo"] == {"state": "down", "mtu": 65536}
    assert real.diff["after"][ns]["links"]["lo"] == {"state": "up", "mtu": 16384}
    assert not run.task("Up again").changed
    assert run.task("Default mtu").changed
    assert run.task("Default mtu")["link"]["mtu"] == 65536
    assert not run.task("Default mtu again").changed
    assert state_of(ns, "lo") == (True, 65536)
    assert cidrs(ns, "lo", family=4, scope=None) == {"127.0.0.1/8"}


def test_bad_input_fails_and_changes_nothing(run_tasks, netns, veth):
    ns_a, ns_b = netns(), netns()
    dev = veth(ns_a, ns_b)[0]
    missing_ns = netns.name()  # never created: the module must not create it either
    missing_dev = helpers.new_name()
    cases = {
        "missing namespace": ({"netns": missing_ns, "name": "lo", "state": "up"}, "netns", [missing_ns]),
        "missing link": ({"netns": ns_a, "name": missing_dev, "state": "up"}, "name", [missing_dev, ns_a]),
        "mtu too large": ({"netns": ns_a, "name": dev, "state": "up", "mtu": 65536}, "mtu", ["65536"]),
        "mtu beyond the kernel's": ({"netns": ns_a, "name": dev, "state": "up", "mtu": 2**31}, "mtu", []),
        "mtu too small": ({"netns": ns_a, "name": dev, "state": "up", "mtu": 67}, "mtu", ["67"]),
        "mtu negative": ({"netns": ns_a, "name": dev, "state": "up", "mtu": -1}, "mtu", []),
        "name too long": ({"netns": ns_a, "name": "x" * 16, "state": "up"}, "name", ["15"]),
        "name with slash": ({"netns": ns_a, "name": "a/b", "state": "up"}, "name", []),
        "name with colon": ({"netns": ns_a, "name": "eth0:1", "state": "up"}, "name", []),
        "name with space": ({"netns": ns_a, "name": "a b", "state": "up"}, "name", []),
        "bad namespace name": ({"netns": "../x", "name": "lo", "state": "up"}, "netns", []),
    }
    run = run_tasks([link_task(label, ignore_errors=True, **args) for label, (args, *_unused) in cases.items()])
    assert [r.task for r in run] == list(cases)
    for label, (_args, param, words) in cases.items():
        assert_failed_cleanly(run.task(label), param + ":", *words)
    assert not netns_exists(missing_ns)
    assert state_of(ns_a, dev) == (False, 1500)
    assert state_of(ns_a, "lo")[0] is False


def test_check_mode_assumes_what_an_earlier_task_would_create(run_tasks, netns):
    """In check mode a missing namespace or link is taken as made by an earlier task: predicted, warned."""
    ns_a = netns()
    missing_ns = netns.name()
    missing_dev = helpers.new_name()
    run = run_tasks([
        link_task("Missing namespace", netns=missing_ns, name="lo", state="up", check_mode=True),
        link_task("Missing link", netns=ns_a, name=missing_dev, state="up", check_mode=True),
    ])
    namespace, link = run.task("Missing namespace"), run.task("Missing link")
    assert namespace.changed and namespace["actions"] == [f"set lo in namespace {missing_ns} up"], namespace
    assert any(f"namespace {missing_ns} does not exist" in w for w in namespace.get("warnings", [])), namespace
    assert link.changed and link["actions"] == [f"set {missing_dev} in namespace {ns_a} up"], link
    assert any(f"link {missing_dev} not found" in w for w in link.get("warnings", [])), link
    assert not netns_exists(missing_ns)
    assert missing_dev not in {entry["ifname"] for entry in helpers.links(ns_a)}
