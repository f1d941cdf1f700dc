# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The boot unit's text: byte for byte what the namespaces role's template rendered.

The role rendered the unit with ansible.builtin.template until the topology module took it
over (one module run per host). fixtures/bootunit/<case>.service are that template's output
for the role variables whose topology argument is <case>.json (the role's
__namespaces_topology, its master, ip and owner). The module renders the unit from the same argument
after AnsibleModule has filled in its defaults: both shapes must give the same text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._bootunit import masters_of, render
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import marker
from ansible_collections.linuxnet.ipvlan.plugins.modules.topology import argument_spec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bootunit"
CASES = sorted(path.stem for path in FIXTURES.glob("*.service"))


def load(case: str) -> tuple[dict, str]:
    return json.loads((FIXTURES / f"{case}.json").read_text(encoding="utf-8")), \
        (FIXTURES / f"{case}.service").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_render_matches_the_template(case: str) -> None:
    given, expected = load(case)
    assert render(given["namespaces"], [given["master"]], given["ip"], marker(given["owner"])) == expected


@pytest.mark.parametrize("case", CASES)
def test_render_from_validated_parameters(case: str) -> None:
    """What the module sees: every suboption present, defaults filled in."""
    given, expected = load(case)
    result = ArgumentSpecValidator(argument_spec()).validate({"namespaces": given["namespaces"]})
    assert not result.error_messages, result.error_messages
    namespaces = result.validated_parameters["namespaces"]
    assert masters_of(namespaces) == [given["master"]]
    assert render(namespaces, masters_of(namespaces), given["ip"], marker(given["owner"])) == expected


def test_systemd_specials_are_quoted() -> None:
    text = render([{"name": 'a%b$c\\d"e f', "routes": []}], ["eth-0"], "/usr/sbin/ip", marker("default"))
    assert 'ExecStart=-"/usr/sbin/ip" netns add "a%%b$$c\\\\d\\"e f"\n' in text
    assert "Wants=sys-subsystem-net-devices-eth\\x2d0.device\n" in text
