# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# No `from __future__ import annotations` here, nor in the modules that import this first: this file
# must compile on the old Pythons it turns away (3.6 has no such future feature).
"""The oldest managed-node Python the modules run on, checked before any code that needs it.

Every module imports this first. Under an older Python it prints the failure and exits, the way
ansible.module_utils.basic turns away Pythons that ansible-core does not support, instead of
failing later with a SyntaxError in code it cannot compile.
"""

import json
import sys

PYTHON_FLOOR = (3, 9)


def version_text(version):
    return '.'.join(str(part) for part in version[:2])


def too_old_msg(interpreter, version):
    return ('linuxnet.ipvlan modules need Python >= %s on the managed node; %s is Python %s. Set '
            'ansible_python_interpreter to a Python >= %s that has pyroute2 >= 0.7.2.'
            % (version_text(PYTHON_FLOOR), interpreter, version_text(version), version_text(PYTHON_FLOOR)))


if sys.version_info < PYTHON_FLOOR:
    # Not fail_json: AnsibleModule is not built yet, and its code may not even compile here.
    sys.stdout.write(json.dumps({'failed': True, 'msg': too_old_msg(sys.executable, sys.version_info)}) + '\n')
    raise SystemExit(1)
