# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The session's read of a namespace that goes away between the listing and the setns.

A race the host cannot be made to show on purpose (another tool removes the namespace in the
microseconds between our listing of /run/netns and our setns): the setns fails with EINVAL, as
the kernel answers for a path that is no namespace any more.
"""

from __future__ import annotations

import errno
import os
import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _netns
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session


@pytest.fixture
def vanishing(monkeypatch: pytest.MonkeyPatch) -> t.Callable[[bool], None]:
    def setup(still_mounted: bool) -> None:
        def setns(fd: int) -> None:
            raise OSError(errno.EINVAL, 'setns: Invalid argument')

        monkeypatch.setattr(_netns, 'list_netns', lambda: ['ns0'])
        monkeypatch.setattr(_netns, '_open_netns', lambda name: os.open(os.devnull, os.O_RDONLY))
        monkeypatch.setattr(_netns, '_setns', setns)
        monkeypatch.setattr(_netns, 'netns_exists', lambda name: still_mounted)

    return setup


def test_a_namespace_removed_since_it_was_listed_reads_as_absent(vanishing: t.Callable[[bool], None]) -> None:
    vanishing(False)
    with Session() as session:
        assert session.read('ns0').exists is False


def test_setns_refused_on_a_namespace_that_is_still_there_is_an_error(vanishing: t.Callable[[bool], None]) -> None:
    vanishing(True)
    with Session() as session, pytest.raises(TaskError, match='ns0'):
        session.read('ns0')
