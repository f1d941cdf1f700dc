# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Regression tests for what the property tests (test_properties.py) found, smallest repro each.

Each test names the class of bug. They run the modules in process (inprocess.py) against the
host kernel, on namespaces of the netns fixture.
"""

from __future__ import annotations

import pytest
from inprocess import Harness


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


def check_then_real(harness: Harness, module: str, params: dict) -> tuple[dict, dict]:
    check = harness.run(module, params, check=True, diff=True)
    real = harness.run(module, params, diff=True)
    return check, real


def test_prediction_of_a_new_namespace_is_what_the_reader_reads(netns):
    """Predicted state vs read state: a fresh namespace's lo (its MAC and mtu range) as the reader sees it."""
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Namespace  # noqa: PLC0415
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session  # noqa: PLC0415

    name = netns()
    with Session() as session:
        assert session.read(name) == Namespace.fresh(name)


def test_topology_check_mode_returns_what_the_real_run_returns_for_a_new_namespace(harness, netns):
    """Return values: check mode predicted lo's MAC as null where the real run read 00:00:00:00:00:00."""
    params = {"namespaces": [{"name": netns.name()}]}
    check, real = check_then_real(harness, "topology", params)
    assert real["changed"] and real["namespaces"] == check["namespaces"]
