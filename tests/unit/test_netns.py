# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Named namespaces, the pure parts: mountinfo as the kernel escapes it, names that stay in
/run/netns, and what the planner does with the leftovers found there.

What the kernel really writes and what iproute2 really accepts is checked on the host in
tests/integration/test_netns.py; here the parsing and the planning are pinned down case by case.
"""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import CreateNetns, DeleteNetns
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._gather import gathered
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    ROOT,
    Leftover,
    LinkSpec,
    Namespace,
    NamespaceSpec,
    World,
    display_name,
    netns_label,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._netns import (
    LEFTOVER_FILE,
    Mount,
    netns_path,
    parse_mountinfo,
    unescape,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import plan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import diff_view

# --- mountinfo ------------------------------------------------------------------------

# Lines as a 6.x kernel writes them for `ip netns add` of "a b", "a\b", "a<TAB>b", "a<NL>b" and "é",
# a tmpfs and a bind mount of a deleted file, and a uts namespace bound under /run/netns.
MOUNTINFO = b'''\
24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
45 24 0:22 /netns /run/netns rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755
48 45 0:4 net:[4026532178] /run/netns/a\\040b rw shared:4 - nsfs nsfs rw
49 45 0:4 net:[4026532315] /run/netns/a\\134b rw shared:5 - nsfs nsfs rw
50 45 0:4 net:[4026532455] /run/netns/a\\011b rw shared:6 - nsfs nsfs rw
51 45 0:4 net:[4026532525] /run/netns/a\\012b rw shared:7 - nsfs nsfs rw
52 45 0:4 net:[4026532594] /run/netns/\xc3\xa9 rw shared:8 - nsfs nsfs rw
53 45 0:40 / /run/netns/t rw,relatime shared:9 master:3 - tmpfs my\\040tmp rw
54 45 8:1 /tmp/x//deleted /run/netns/gone rw,relatime - ext4 /dev/sda1 rw
55 45 0:4 uts:[4026531838] /run/netns/uts rw - nsfs nsfs rw
'''


@pytest.mark.parametrize('field, name', [
    (b'a\\040b', b'a b'), (b'a\\011b', b'a\tb'), (b'a\\012b', b'a\nb'), (b'a\\134b', b'a\\b'),
    (b'a\\134040b', b'a\\040b'),  # an escaped backslash followed by digits stays three digits
    (b'plain', b'plain'), (b'\xc3\xa9', b'\xc3\xa9'),
])
def test_unescape(field: bytes, name: bytes) -> None:
    assert unescape(field) == name


def test_parse_mountinfo() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    points = [m.point for m in mounts]
    assert points[2:7] == [b'/run/netns/a b', b'/run/netns/a\\b', b'/run/netns/a\tb', b'/run/netns/a\nb',
                           '/run/netns/\u00e9'.encode()]
    assert all(m.is_netns for m in mounts[2:7])
    tmp, gone, uts = mounts[7:]
    assert (tmp.fstype, tmp.source, tmp.is_netns) == ('tmpfs', 'my tmp', False)
    assert tmp.describe() == 'a tmpfs mount of / from my tmp'
    assert gone.describe() == 'a ext4 mount of /tmp/x (deleted) from /dev/sda1'
    assert not uts.is_netns and uts.describe() == 'a mount of uts:[4026531838], not a network namespace'


def test_parse_mountinfo_skips_what_it_cannot_read() -> None:
    assert parse_mountinfo(b'\n\ngarbage\n1 2 3\n') == []


def test_mount_of_a_network_namespace() -> None:
    assert Mount(b'/run/netns/x', b'net:[1]', 'nsfs', 'nsfs').is_netns
    assert not Mount(b'/run/netns/x', b'net:[1]', 'tmpfs', 'nsfs').is_netns


# --- names never leave /run/netns ---------------------------------------------------------

@pytest.mark.parametrize('name', ['', '.', '..', 'a/../../etc', '/etc/passwd', '../x', 'x/', 'a\0b', None])
def test_netns_path_refuses_what_is_not_one_component(name: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        netns_path(name)


@pytest.mark.parametrize('name', ['a b', 'a\\b', 'a\tb', '-x', '...', '\u00e9'])
def test_netns_path(name: str) -> None:
    assert netns_path(name) == '/run/netns/' + name


@pytest.mark.parametrize('name, shown', [
    ('ns0', 'ns0'), ('a b', 'a b'), ('a\\b', 'a\\b'), ('\u00e9', '\u00e9'),
    ('a\tb', '"a\\tb"'), ('a\nb', '"a\\nb"'), ('\x1b[31m', '"\\u001b[31m"'),
])
def test_display_name_shows_control_characters_escaped(name: str, shown: str) -> None:
    assert display_name(name) == shown
    assert netns_label(name) == 'namespace ' + shown


# --- leftovers in the planner -----------------------------------------------------------------

FILE = Leftover(LEFTOVER_FILE, repairable=True)
FOREIGN = Leftover('a tmpfs mount of / from tmpfs')


def world_with(name: str, leftover: Leftover) -> World:
    return World(namespaces={ROOT: Namespace(ROOT), name: Namespace(name, exists=False, leftover=leftover)})


def test_present_repairs_a_leftover_file() -> None:
    current = world_with('ns0', FILE)
    the_plan = plan([NamespaceSpec('ns0', ensure='present')], current)
    assert the_plan.actions == [CreateNetns('ns0', repair=LEFTOVER_FILE)]
    assert the_plan.describe() == ['repair namespace ns0 (leftover file)']
    assert diff_view(current, the_plan.scope) == {'ns0': {'state': 'absent', 'leftover': LEFTOVER_FILE}}
    assert diff_view(the_plan.after, the_plan.scope) == {'ns0': {'state': 'present'}}
    # What it predicts is a namespace: planning again on it finds nothing to do.
    assert plan([NamespaceSpec('ns0', ensure='present')], the_plan.after).actions == []


def test_present_refuses_a_foreign_entry_and_names_it() -> None:
    with pytest.raises(TaskError) as exc:
        plan([NamespaceSpec('ns0', ensure='present')], world_with('ns0', FOREIGN))
    assert exc.value.msg.startswith('name: /run/netns/ns0 is a tmpfs mount of / from tmpfs, not a network namespace')
    assert 'state=absent' in exc.value.msg


@pytest.mark.parametrize('leftover', [FILE, FOREIGN], ids=['file', 'foreign'])
def test_absent_removes_any_leftover(leftover: Leftover) -> None:
    current = world_with('ns0', leftover)
    the_plan = plan([NamespaceSpec('ns0', ensure='absent')], current)
    assert the_plan.actions == [DeleteNetns('ns0', leftover=leftover.what)]
    assert the_plan.describe() == ['remove /run/netns/ns0 (%s)' % leftover.what]
    assert diff_view(the_plan.after, the_plan.scope) == {'ns0': {'state': 'absent'}}
    assert plan([NamespaceSpec('ns0', ensure='absent')], the_plan.after).actions == []


@pytest.mark.parametrize('leftover', [FILE, FOREIGN], ids=['file', 'foreign'])
def test_a_leftover_is_no_namespace_to_work_in(leftover: Leftover) -> None:
    with pytest.raises(TaskError) as exc:
        plan([NamespaceSpec('ns0', links=(LinkSpec('lo', up=True),))], world_with('ns0', leftover))
    assert exc.value.msg == ('netns: namespace ns0 does not exist (/run/netns holds %s there); create it first '
                             '(linuxnet.ipvlan.netns)' % leftover.what)


def test_names_with_control_characters_are_shown_escaped_in_actions() -> None:
    current = World(namespaces={ROOT: Namespace(ROOT), 'a\tb': Namespace('a\tb')})
    assert plan([NamespaceSpec('a\tb', ensure='absent')], current).describe() == ['delete namespace "a\\tb"']


# --- a name that is not UTF-8 -------------------------------------------------------------------

def test_a_name_that_is_not_utf8_is_left_out_of_facts_with_a_warning() -> None:
    # ip netns add takes any bytes; os.listdir gives b'bad\xff' as 'bad\udcff' (surrogateescape), which
    # no Ansible result can carry.  Checked once on the host by hand: facts of all warn and succeed.
    bad = b'bad\xff'.decode('utf-8', 'surrogateescape')
    current = World(names=lambda: ['good', bad],
                    namespaces={ROOT: Namespace(ROOT), 'good': Namespace('good'), bad: Namespace(bad)})
    warnings: list[str] = []
    data = gathered(current, {'netns': None, 'include_root': False}, warnings.append)
    assert list(data['namespaces']) == ['good']
    assert warnings == ['namespace bad\\xff is left out: its name is not UTF-8, which a result cannot carry '
                        '(ip netns delete removes it)']
