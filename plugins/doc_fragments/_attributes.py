# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # Standard attributes of the state-changing modules:
    #   extends_documentation_fragment:
    #     - linuxnet.ipvlan._attributes
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode computes the same plan a real run applies, so it reports the same RV(ignore:changed) and diff.
      - When the task needs something that an earlier task of the play would create or change (a namespace, a link,
        a master that is down, the ipvlan kernel module), check mode assumes it, predicts the change and warns instead
        of failing. A real run refuses when the dependency is really missing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
    details:
      - After a real run, the diff's C(after) is a fresh read of the kernel, not the prediction.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
    details:
      - A real run reads the kernel again after applying and plans the same declaration against that read; anything
        left to do fails the task (the kernel did not do what was predicted), so a successful run is verified.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
"""

    # Attributes of the read-only modules (facts and info), used INSTEAD of the DOCUMENTATION above:
    #   extends_documentation_fragment:
    #     - linuxnet.ipvlan._attributes.read_only
    READ_ONLY = r"""
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: none
    details:
      - This action does not modify state.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
    details:
      - This action does not modify state.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
"""

    # The facts module adds this one to READ_ONLY:
    #   extends_documentation_fragment:
    #     - linuxnet.ipvlan._attributes.read_only
    #     - linuxnet.ipvlan._attributes.facts
    FACTS = r"""
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
"""
