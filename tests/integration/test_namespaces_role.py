# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The namespaces role on the host: owners (namespaces_owner), and the boot unit's command lines (as the
topology module renders them) as systemd itself reads them.

The host kernel has no ipvlan, so the role runs here with namespaces without slaves; the slaves, the
unit at boot and the rest are proven in the Molecule scenarios.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import helpers
from helpers import link, netns_names

sys.path.insert(0, str(helpers.COLLECTIONS_PATH))
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._bootunit import render  # noqa: E402  pylint: disable=wrong-import-position

ROLE = "linuxnet.ipvlan.namespaces"


def role_task(label: str, owner: str, names: list[str]) -> dict:
    return {
        "name": label,
        "ansible.builtin.include_role": {"name": ROLE},
        "vars": {
            "namespaces_owner": owner,
            "namespaces_purge": True,
            "namespaces_gateway": "",  # no default route (null too, from ansible-core 2.19 on)
            "namespaces_list": [{"name": name} for name in names],
            "namespaces_persist_unit": helpers.SESSION_PREFIX + ".service",  # never there: nothing to remove
        },
    }


def test_role_runs_with_two_owners_keep_to_their_own(netns):
    owner_a, owner_b = helpers.SESSION_PREFIX + "-ra", helpers.SESSION_PREFIX + "-rb"
    a1, a2, b1 = netns.name(), netns.name(), netns.name()
    run = helpers.run_tasks(
        [
            role_task("A", owner_a, [a1, a2]),
            role_task("B", owner_b, [b1]),
            role_task("A drops a2", owner_a, [a1]),
            role_task("B again", owner_b, [b1]),
        ]
    )
    converged = [result for result in run if result.action == "linuxnet.ipvlan.topology"]
    namespace_actions = [sorted(a for a in result["actions"] if "namespace " in a.split(" in ")[0])
                         for result in converged]
    assert namespace_actions == [
        sorted([f"create namespace {a1}", f"create namespace {a2}"]),
        [f"create namespace {b1}"],
        [f"delete namespace {a2}"],
        [],
    ]
    assert not converged[-1].changed
    names = netns_names()
    assert {a1, b1} <= names and a2 not in names
    assert link(a1, "lo").get("ifalias") == f"managed-by=linuxnet.ipvlan owner={owner_a}"
    assert link(b1, "lo").get("ifalias") == f"managed-by=linuxnet.ipvlan owner={owner_b}"


# --------------------------------------------------------------------------- the boot unit, read by systemd

AWKWARD = ["a b", 'x"y', "back\\slash", "%i$HOME;", "-dash", "\u00e9t\u00e9", "trailing\\"]


def command_lines(unit: Path) -> list[list[str]]:
    """The ExecStart= argv lists as systemd parses them (systemd-analyze verify, debug dump), with the
    $$ -> $ that systemd applies when it runs them."""
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="debug")
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", unit.name], cwd=unit.parent, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert not re.search(re.escape(unit.name) + r":\d+:", output), output  # no complaint about any line
    lines = [line.split("Command Line: ", 1)[1] for line in output.splitlines() if "Command Line: " in line]
    assert lines, output
    return [[word.replace("$$", "$") for word in shell_words(line)] for line in lines]


def shell_words(line: str) -> list[str]:
    """Words of a line as systemd's dump quotes them: POSIX shell double quotes, where a backslash
    escapes $, `, " and itself (shlex would keep the backslash before $)."""
    words, word, quoted, chars = [], None, False, iter(line)
    for char in chars:
        if char == " " and not quoted:
            if word is not None:
                words.append(word)
            word = None
            continue
        word = word or ""
        if char == '"':
            quoted = not quoted
        elif char == "\\":
            following = next(chars)
            word += following if not quoted or following in '$`"\\' else char + following
        else:
            word += char
    if word is not None:
        words.append(word)
    return words


def test_unit_passes_awkward_names_as_one_argument_each(tmp_path):
    marker = "managed-by=linuxnet.ipvlan owner=t-1"
    topology = [
        {"name": name, "lo": True, "ipvlans": [{"name": "s0", "master": "eth0", "mode": "l2", "flags": "bridge",
                                                "addresses": ["198.51.100.11/24"]}],
         "routes": [{"dst": "default", "gateway": "198.51.100.1", "dev": "s0", "table": "100"}]}
        for name in AWKWARD
    ]
    unit = tmp_path / "lnt-awkward.service"
    unit.write_text(render(topology, ["eth0"], "/usr/sbin/ip", marker), encoding="utf-8")
    ip = "/usr/sbin/ip"
    expected = [[ip, "link", "set", "dev", "eth0", "up"]]
    for name in AWKWARD:
        expected += [
            [ip, "netns", "add", name],
            [ip, "link", "add", "link", "eth0", "name", "s0", "netns", name, "type", "ipvlan", "mode", "l2", "bridge"],
            [ip, "-n", name, "link", "set", "dev", "lo", "up", "alias", marker],
            [ip, "-n", name, "address", "replace", "127.0.0.1/8", "dev", "lo"],
            [ip, "-n", name, "link", "set", "dev", "s0", "up", "alias", marker],
            [ip, "-n", name, "address", "replace", "198.51.100.11/24", "dev", "s0"],
            [ip, "-n", name, "-4", "route", "replace", "unicast", "default", "via", "198.51.100.1", "dev", "s0",
             "table", "100"],
        ]
    assert command_lines(unit) == expected
    assert not set(AWKWARD) & netns_names()
