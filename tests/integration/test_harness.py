# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-test of the host integration harness: fixtures, kernel oracle and run_tasks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import helpers
from helpers import cidrs, ip, ip_json, is_up, link, link_kind, links, netns_exists, netns_names, routes

HERE = Path(__file__).resolve().parent


def test_netns_factory_creates_unique_short_names(netns):
    first, second = netns(), netns()
    assert first != second
    for name in (first, second):
        assert name.startswith(helpers.SESSION_PREFIX)
        assert len(name) <= helpers.IFNAMSIZ
        assert name in netns_names()
        assert Path("/run/netns", name).exists()
        assert [entry["ifname"] for entry in links(name)] == ["lo"]


def test_netns_name_is_reserved_not_created(netns):
    name = netns.name()
    assert name.startswith(helpers.SESSION_PREFIX)
    assert not netns_exists(name)
    ip("netns", "add", name)  # as a module under test would; the fixture still removes it
    assert netns_exists(name)


def test_netns_lo_up(netns):
    ns = netns(lo_up=True)
    assert is_up(link(ns, "lo"))


def test_veth_between_two_namespaces(netns, veth):
    ns_a, ns_b = netns(), netns()
    name_a, name_b = veth(ns_a, ns_b, up=True)
    end_a, end_b = link(ns_a, name_a), link(ns_b, name_b)
    assert link_kind(end_a) == "veth" and link_kind(end_b) == "veth"
    assert is_up(end_a) and is_up(end_b)
    assert link(None, name_a) is None and link(None, name_b) is None


def test_veth_with_one_end_in_the_root_namespace(netns, veth):
    ns = netns()
    name_a, name_b = veth(ns)
    assert link(ns, name_a) is not None and not is_up(link(ns, name_a))
    assert link_kind(link(None, name_b)) == "veth"


def test_bridge_link(netns, bridge):
    ns = netns()
    name = bridge(ns, up=True)
    assert link_kind(link(ns, name)) == "bridge"
    assert is_up(link(ns, name))


def test_kernel_supports_probe_leaves_nothing():
    before = netns_names()
    assert helpers.kernel_supports("veth", "peer", "name", "x1")
    assert not helpers.kernel_supports("no-such-kind")
    assert not {name for name in netns_names() - before if name.startswith(helpers.SESSION_PREFIX)}


def test_ip_json_oracle_sees_addresses_and_routes(netns, veth):
    ns_a, ns_b = netns(), netns()
    name_a = veth(ns_a, ns_b, up=True)[0]
    ip("address", "add", "192.0.2.1/24", "dev", name_a, netns=ns_a)
    ip("address", "add", "2001:db8::1/64", "dev", name_a, "nodad", netns=ns_a)
    ip("route", "add", "198.51.100.0/24", "via", "192.0.2.254", "metric", "50", netns=ns_a)
    assert cidrs(ns_a, name_a) == {"192.0.2.1/24", "2001:db8::1/64"}
    assert cidrs(ns_a, name_a, family=4) == {"192.0.2.1/24"}
    v4 = {route["dst"]: route for route in routes(ns_a)}
    assert v4["198.51.100.0/24"]["gateway"] == "192.0.2.254"
    assert v4["198.51.100.0/24"]["metric"] == 50
    assert v4["192.0.2.0/24"]["protocol"] == "kernel"
    assert any(route["dst"] == "2001:db8::/64" for route in routes(ns_a, family=6))
    assert any(route["type"] == "local" for route in routes(ns_a, table="local"))
    assert ip_json(ns_a, "link", "show", "dev", name_a)[0]["ifname"] == name_a


def test_cleanup_runs_when_a_test_fails(tmp_path):
    """A failing test's namespaces and veths are gone after its teardown (run in a child pytest)."""
    record = tmp_path / "created.json"
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(
        textwrap.dedent(
            f"""
            import json

            def test_fails(netns, veth):
                ns = netns()
                reserved = netns.name()
                name_a, name_b = veth(ns)
                with open({str(record)!r}, "w") as handle:
                    json.dump([ns, reserved, name_a, name_b], handle)
                assert False, "deliberate failure"
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(HERE)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed" in proc.stdout and "deliberate failure" in proc.stdout
    ns, reserved, name_a, name_b = json.loads(record.read_text())
    assert not netns_exists(ns) and not netns_exists(reserved)
    assert link(None, name_b) is None
    assert not helpers.leftovers(ns[: len(helpers.SESSION_PREFIX)])


# ----------------------------------------------------------------------------- run_tasks


def test_run_tasks_uses_the_interpreter(run_tasks, python_interpreter):
    run = run_tasks([{"name": "Python facts", "ansible.builtin.setup": {"gather_subset": ["!all", "!min", "python"]}}])
    assert len(run) == 1
    assert run[0].action == "ansible.builtin.setup"
    assert run[0]["ansible_facts"]["ansible_python"]["executable"] == python_interpreter


def test_run_tasks_changes_the_kernel(run_tasks, netns, veth):
    ns = netns()
    name_a = veth(ns)[0]
    assert not is_up(link(ns, name_a))
    run = run_tasks(
        [
            {"name": "Ping", "ansible.builtin.ping": {}},
            {
                "name": "Set the veth up",
                "ansible.builtin.command": {"argv": ["ip", "-n", ns, "link", "set", "dev", name_a, "up"]},
            },
        ]
    )
    assert [r.task for r in run] == ["Ping", "Set the veth up"]
    assert run.task("Ping")["ping"] == "pong" and not run.task("Ping").changed
    assert run.task("Set the veth up").changed and run.task("Set the veth up")["rc"] == 0
    assert is_up(link(ns, name_a))


def test_run_tasks_expected_failure_stops_the_play(run_tasks):
    run = run_tasks(
        [
            {"name": "First", "ansible.builtin.ping": {}},
            {"name": "Boom", "ansible.builtin.fail": {"msg": "boom"}},
            {"name": "Never", "ansible.builtin.ping": {}},
        ],
        expect_failure=True,
    )
    assert [r.task for r in run] == ["First", "Boom"]
    assert run.last.failed and run.last.status == "failed"
    assert run.last.msg == "boom"
    assert run.rc == 2


def test_run_tasks_raises_on_unexpected_failure(run_tasks):
    with pytest.raises(AssertionError, match="task 'Boom' failed: boom"):
        run_tasks([{"name": "Boom", "ansible.builtin.fail": {"msg": "boom"}}])


def test_run_tasks_raises_when_expected_failure_does_not_happen(run_tasks):
    with pytest.raises(AssertionError, match="expected a task to fail"):
        run_tasks([{"name": "Fine", "ansible.builtin.ping": {}}], expect_failure=True)


def test_run_tasks_check_mode_and_diff(run_tasks, tmp_path):
    target = tmp_path / "file.txt"
    task = {"name": "Write", "ansible.builtin.copy": {"dest": str(target), "content": "hello\n", "mode": "0644"}}
    check = run_tasks([task], check=True, diff=True)
    assert check[0].changed and not target.exists()
    assert check[0].diff, check[0]
    real = run_tasks([task], diff=True)
    assert real[0].changed and target.read_text() == "hello\n"
    again = run_tasks([task], diff=True)
    assert not again[0].changed and not again.changed


def test_run_tasks_loop_and_play_vars(run_tasks):
    run = run_tasks(
        [{"name": "Echo", "ansible.builtin.debug": {"msg": "{{ greeting }} {{ item }}"}, "loop": [1, 2]}],
        play_vars={"greeting": "hi"},
    )
    assert [item["msg"] for item in run[0]["results"]] == ["hi 1", "hi 2"]
