# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Without CAP_SYS_ADMIN, without CAP_NET_ADMIN, without pyroute2: one actionable line, nothing changed.

Each case runs ansible-playbook (and so the module) for real without the capability: util-linux's
setpriv drops it from the bounding set, so root's processes never get it back. pyroute2 is taken
away by mounting an empty tmpfs over the system Python's copy, in a private mount namespace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import helpers
from helpers import is_up, link, netns_exists

HERE = Path(__file__).resolve().parent
NETNS = "linuxnet.ipvlan.netns"


def without(*capabilities: str) -> list[str]:
    """An argv prefix that runs a command without CAPABILITIES (e.g. 'sys_admin')."""
    drop = ",".join("-" + cap for cap in capabilities)
    return ["setpriv", "--inh-caps=-all", f"--bounding-set={drop}", "--"]


def assert_one_line_naming(result, *words: str) -> None:
    assert result.failed and not result.changed, result
    assert "\n" not in result.msg, result
    for word in words:
        assert word in result.msg, result
    assert "Traceback" not in json.dumps(dict(result)), result


def test_without_cap_sys_admin(run_tasks, netns):
    existing = netns()  # ip netns add, lo down
    new = netns.name()
    run = run_tasks(
        [
            {"name": "Create", NETNS: {"name": new}, "ignore_errors": True},
            {"name": "Remove", NETNS: {"name": existing, "state": "absent"}, "ignore_errors": True},
            {"name": "Read", "linuxnet.ipvlan.facts": {"netns": [existing]}, "ignore_errors": True},
            {"name": "Topology", "linuxnet.ipvlan.topology": {"namespaces": [{"name": new}]}, "ignore_errors": True},
            {"name": "Root only", "linuxnet.ipvlan.facts": {"netns": []}},
        ],
        wrapper=without("sys_admin"),
    )
    assert_one_line_naming(run.task("Create"), f"create namespace {new} needs CAP_SYS_ADMIN", "become: true")
    # Planning the removal reads the namespace first: entering it is what fails.
    assert_one_line_naming(run.task("Remove"), f"entering namespace {existing} needs CAP_SYS_ADMIN")
    assert_one_line_naming(run.task("Read"), f"entering namespace {existing} needs CAP_SYS_ADMIN")
    assert_one_line_naming(run.task("Topology"), f"create namespace {new} needs CAP_SYS_ADMIN")
    # Reading the namespace the module runs in needs no capability.
    assert "lo" in run.task("Root only")["ansible_facts"]["linuxnet_ipvlan"]["root"]["links"]
    assert not netns_exists(new) and not (helpers.RUN_NETNS / new).exists()
    assert netns_exists(existing)


def test_without_cap_net_admin(run_tasks, netns):
    existing = netns()  # lo down
    new, other = netns.name(), netns.name()
    run = run_tasks(
        [
            {"name": "Link up", "linuxnet.ipvlan.link": {"name": "lo", "netns": existing, "state": "up"},
             "ignore_errors": True},
            # The namespace alone needs CAP_SYS_ADMIN only; lo up in it needs CAP_NET_ADMIN too, and the
            # check comes before the first action: the namespace is not made either.
            {"name": "Topology", "linuxnet.ipvlan.topology": {"namespaces": [{"name": new}]}, "ignore_errors": True},
            {"name": "Namespace only", NETNS: {"name": other}},
        ],
        wrapper=without("net_admin"),
    )
    assert_one_line_naming(run.task("Link up"), f"set lo in namespace {existing} up needs CAP_NET_ADMIN",
                           "changing links, addresses and routes")
    assert_one_line_naming(run.task("Topology"), "needs CAP_NET_ADMIN")
    assert not is_up(link(existing, "lo"))
    assert not netns_exists(new) and not (helpers.RUN_NETNS / new).exists()
    assert run.task("Namespace only").changed and netns_exists(other)


def test_without_pyroute2(netns):
    """The system Python (where the modules respawn when the interpreter lacks pyroute2) without pyroute2."""
    import_path = helpers.run([str(helpers.SYSTEM_PYTHON), "-c", "import pyroute2; print(pyroute2.__path__[0])"])
    package = import_path.stdout.strip()
    name = netns.name()
    run = helpers.run_tasks(
        [{"name": "Create", NETNS: {"name": name}}],
        interpreter=helpers.SYSTEM_PYTHON,
        expect_failure=True,
        wrapper=["unshare", "--mount", "--propagation", "private", "--",
                 sys.executable, str(HERE / "hide_path.py"), package, "--"],
    )
    assert_one_line_naming(run.last, "Failed to import the required Python library (pyroute2 >= 0.7.2)",
                           "install the python3-pyroute2 package", "linuxnet.ipvlan.prereqs")
    assert not netns_exists(name)
