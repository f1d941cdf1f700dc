# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every module does: specs from parameters, plan, apply unless checking, verify, report.

A module is its argument spec plus a function turning parameters into
NamespaceSpecs (and optionally one adding return values, and one doing what
lies beyond the kernel once it is converged: topology's boot unit).  Check mode stops
after planning.  A real run re-reads what it touched and plans the same specs
again (``converge``): the kernel must agree with every prediction, so an
empty second plan is the proof and a non-empty one fails the task, naming
what is left.
"""

from __future__ import annotations

import errno

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._caps import first_missing
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import NO_IPVLAN_SUPPORT, PRIVILEGES, TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._faults import fault_point
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import World
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import plan, validate
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import NetlinkError, ensure_pyroute2
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import diff_view

PERMISSION_MSG = 'permission denied: managing network namespaces and links needs ' + PRIVILEGES

# Passes of apply + re-read.  The first applies the plan; a later one runs only when the
# re-read shows a race (another process changed the host between our read and our
# request) or a kernel side effect that a second pass legitimately repairs.
MAX_PASSES = 3


def run_module(module, build_specs, returns=None, finish=None):
    try:
        # Every parameter first, against an empty world: bad input fails before pyroute2 is
        # needed, the host lock is taken or anything is read.  What needs the host (a missing
        # master, a gateway out of reach) is checked after the read.
        validate(build_specs(module.params, World()))
    except TaskError as exc:
        module.fail_json(msg=exc.msg, changed=False, **exc.details)
    ensure_pyroute2(module)
    # Imported here: the session needs pyroute2, which ensure_pyroute2 just vouched for.
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session, host_lock

    try:
        with Session() as session, host_lock(shared=module.check_mode):
            outcome = converge(session, lambda world: build_specs(module.params, world), module.check_mode)
            result = outcome.result(module._diff)
            if returns is not None:
                # What check mode predicts, or what the kernel says after the change.
                result.update(returns(outcome.final, module.params))
            if finish is not None:
                _finish(finish, result, outcome)
    except ConvergeError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except TaskError as exc:
        module.fail_json(msg=exc.msg, changed=False, **exc.details)
    except (NetlinkError, OSError) as exc:
        code = getattr(exc, 'code', None) or getattr(exc, 'errno', None)
        if code == errno.EPERM:
            module.fail_json(msg=PERMISSION_MSG, errno=code, changed=False)
        raise
    for warning in outcome.warnings:
        module.warn(warning)
    module.exit_json(**result)


def _finish(finish, result, outcome):
    """FINISH(result) adds its own changes to RESULT; its failure still reports everything done."""
    try:
        finish(result)
    except TaskError as exc:
        failure = ConvergeError(exc.msg, outcome.applied or (), actions=result['actions'], **exc.details)
        failure.details['changed'] = result['changed']
        raise failure from None


class ConvergeError(TaskError):
    """A failure after something was applied: the result says what was, truthfully."""

    def __init__(self, msg, applied, **details):
        super().__init__(msg, changed=bool(applied), applied=[a.describe() for a in applied], **details)


class Outcome:
    """The first plan (what check mode shows), what was applied, and the final world."""

    def __init__(self, first, applied, final, repaired=()):
        self.first = first
        self.applied = applied
        self.final = final
        self.repaired = list(repaired)
        self.warnings = list(first.warnings)
        if self.repaired:
            self.warnings.append('the kernel undid part of the change as a side effect; a second pass repaired it: '
                                 + '; '.join(a.describe() for a in self.repaired))

    @property
    def changed(self):
        return bool(self.applied) if self.applied is not None else self.first.changed

    def result(self, diff):
        result = {'changed': self.changed, 'actions': self.first.describe()}
        if self.repaired:
            result['second_pass'] = [a.describe() for a in self.repaired]
        if diff:
            result['diff'] = {'before': diff_view(self.first.before, self.first.scope),
                              'after': diff_view(self.final, self.first.scope)}
        return result


def converge(session, specs_for, check_mode):
    """Plan SPECS_FOR(world) on a fresh read; unless checking, apply and verify against a re-read."""
    world = session.world()
    first = plan(specs_for(world), world, assume=check_mode)
    _preflight(session, first, check_mode)
    if check_mode or not first.changed:
        return Outcome(first, None, first.after)
    applied, repaired, current = [], [], first
    for attempt in range(1, MAX_PASSES + 1):
        raced = _apply(session, current.actions, applied, last=attempt == MAX_PASSES)
        fault_point('verify %d' % attempt)
        # A namespace replaced under a socket of ours is a race too, whatever the kernel answered.
        raced = session.refresh() or raced
        residual = _replan(session, specs_for, applied)
        # So is an address or a route that another process changed meanwhile (until this read).
        raced = session.others_changed() or raced
        if not residual.changed:
            return Outcome(first, applied, residual.before, repaired)
        if not raced:
            unexplained = [a for a in residual.actions if not _kernel_side_effect(a, first)]
            if unexplained or attempt == MAX_PASSES:
                raise ConvergeError(
                    'the kernel did not do what was planned: after applying, a fresh read still needs: %s'
                    % '; '.join(residual.describe()),
                    applied, residual=residual.describe())
            repaired += residual.actions
        current = residual
    raise ConvergeError('the host kept changing under this task: after %d passes it still needs: %s'
                        % (MAX_PASSES, '; '.join(current.describe())), applied, residual=current.describe())


def _preflight(session, the_plan, check_mode):
    """What the plan needs from the kernel, asked before the first action: fail, or warn in check mode."""
    lacking = first_missing(the_plan.actions)
    if lacking and not check_mode:
        raise TaskError(lacking + '; nothing was changed')
    if lacking:
        the_plan.warnings.append(lacking + ' (check mode: the real run fails)')
    creates = [a for a in the_plan.actions if a.creates_ipvlan]
    if creates and not session.ipvlan_supported(may_load=not check_mode):
        message = '%s: %s' % (creates[0].describe(), NO_IPVLAN_SUPPORT)
        if not check_mode:
            raise TaskError(message + '; nothing was changed', errno=errno.EOPNOTSUPP)
        the_plan.warnings.append(message + ' (check mode: the real run fails unless an earlier task provides it)')


def _replan(session, specs_for, applied):
    """Read the host anew and plan the same declaration; a refusal now still reports what was applied."""
    world = session.world()
    try:
        return plan(specs_for(world), world)
    except TaskError as exc:
        raise ConvergeError('after applying, planning again on a fresh read failed: %s' % exc.msg, applied)


# errnos that mean "someone else got there first": the object appeared or vanished between
# our read and our request.  The pass stops, the host is re-read and planned again.
_RACE_ERRNOS = (errno.EEXIST, errno.ENOENT, errno.ENODEV, errno.ESRCH, errno.EADDRNOTAVAIL)


def _apply(session, actions, applied, last):
    """Apply ACTIONS, appending each success to APPLIED; True when a race cut the pass short."""
    for action in actions:
        fault_point('action %d' % len(applied))
        try:
            session.apply_one(action)
        except TaskError as exc:
            if exc.details.get('errno') in _RACE_ERRNOS and not last:
                return True
            raise ConvergeError(exc.msg, applied, failed=action.describe(), **exc.details)
        applied.append(action)
    return False


def _kernel_side_effect(action, first):
    """Is ACTION the repair of something the kernel flushed by itself during the first pass?

    The documented list: a route, or an IPv6 address, that existed before the run and that
    the plan kept.  The kernel removes them when a link goes down or changes, or when an
    address they depend on goes, in more cases than the planner models (see the README's
    "Plan truth" section).  Anything else left over is a wrong prediction: the task fails.
    """
    restored = getattr(action, 'restores', None)
    if restored is None:
        return False
    before = first.before.get(action.netns)
    predicted = first.after.get(action.netns)
    return restored(before) and restored(predicted)
