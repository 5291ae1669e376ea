"""Readiness maps are the company's shared work: everyone signed in reads them. A map is shaped by its
owner (the product manager), leaders and admins; a touchpoint is answered by them and by the person
who answers for it (its owner, else its function's lead). Viewers only read."""

from __future__ import annotations

from typing import Any

import rules

from touchpoint.users.permissions import has_any_role, is_admin, is_csm, is_leader


@rules.predicate
def owns_the_map(user: Any, obj: Any) -> bool:
    readiness_map = getattr(obj, "map", obj)
    return obj is not None and getattr(readiness_map, "owner_id", None) == getattr(user, "pk", None)


@rules.predicate
def answers_for_it(user: Any, obj: Any) -> bool:
    if obj is None or not hasattr(obj, "function"):
        return False
    return user.pk is not None and user.pk in (obj.owner_id, obj.function.lead_id)


may_create = is_admin | is_leader | is_csm
may_shape = is_admin | is_leader | owns_the_map

rules.add_perm("readiness.view_readinessmap", has_any_role)
rules.add_perm("readiness.add_readinessmap", may_create)
rules.add_perm("readiness.change_readinessmap", may_shape)
rules.add_perm("readiness.delete_readinessmap", is_admin | owns_the_map)
rules.add_perm("readiness.change_touchpoint", may_shape | answers_for_it)
rules.add_perm("readiness.add_touchpointcomment", is_admin | is_leader | is_csm)
rules.add_perm("readiness.add_uptimemonth", is_admin | is_leader)
