# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The start barrier of racing plays: what the test-only callback (callback_plugins/linuxnet_test_barrier.py)
and test_races.py share. Before each linuxnet.ipvlan task, each party writes ``<dir>/<N>.<party>`` and
waits until all parties have written theirs; after the task it writes ``<dir>/<N>.<party>.end``. The
files hold time.monotonic() values. Pure Python: the test imports it without ansible's controller code
(which, loaded in the test process, would divert module warnings from results in the in-process harness).
"""

from __future__ import annotations

import time
from pathlib import Path

DIR_ENV, PARTY_ENV, PARTIES_ENV = "LINUXNET_TEST_BARRIER", "LINUXNET_TEST_PARTY", "LINUXNET_TEST_PARTIES"
COLLECTION_PREFIX = "linuxnet.ipvlan."
ABORT = "abort"   # a file the test writes when it gives up: every party stops waiting
TIMEOUT = 300.0


def arrive(directory: Path, round_number: int, party: str, parties: int, timeout: float = TIMEOUT,
           others_alive=lambda: True) -> float:
    """Mark PARTY as arrived at ROUND_NUMBER, wait for all PARTIES; return the time of release."""
    (directory / f"{round_number}.{party}").write_text(str(time.monotonic()), encoding="utf-8")
    deadline = time.monotonic() + timeout
    while sum(1 for path in directory.glob(f"{round_number}.*") if path.suffix != ".end") < parties:
        if time.monotonic() > deadline or not others_alive() or (directory / ABORT).exists():
            raise TimeoutError(f"round {round_number}: the other parties never arrived")
        time.sleep(0.001)
    return time.monotonic()


def depart(directory: Path, round_number: int, party: str) -> None:
    (directory / f"{round_number}.{party}.end").write_text(str(time.monotonic()), encoding="utf-8")
