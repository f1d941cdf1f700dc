# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every module does: specs from parameters, plan, apply unless checking, report.

A module is its argument spec plus a function turning parameters into
NamespaceSpecs (and optionally one adding return values).  Check mode stops
after planning; the diff comes from the plan, so it is the same either way.
"""

from __future__ import annotations

import errno

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import plan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import NetlinkError, ensure_pyroute2
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import diff_view

PERMISSION_MSG = ('permission denied: managing network namespaces and links needs root '
                  '(become: true) or CAP_NET_ADMIN and CAP_SYS_ADMIN')


def run_module(module, build_specs, returns=None):
    ensure_pyroute2(module)
    # Imported here: the session needs pyroute2, which ensure_pyroute2 just vouched for.
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session

    try:
        with Session() as session:
            world = session.world()
            the_plan = plan(build_specs(module.params, world), world)
            if not module.check_mode:
                session.apply(the_plan.actions)
            result = {'changed': the_plan.changed, 'actions': the_plan.describe()}
            if module._diff:
                result['diff'] = {'before': diff_view(the_plan.before, the_plan.scope),
                                  'after': diff_view(the_plan.after, the_plan.scope)}
            if returns is not None:
                # What check mode predicts, or what the kernel says after the change.
                final = the_plan.after if module.check_mode or not the_plan.changed else session.world()
                result.update(returns(final, module.params))
    except TaskError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except (NetlinkError, OSError) as exc:
        code = getattr(exc, 'code', None) or getattr(exc, 'errno', None)
        if code == errno.EPERM:
            module.fail_json(msg=PERMISSION_MSG, errno=code)
        raise
    module.exit_json(**result)
