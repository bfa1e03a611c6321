"""Users, roles and privileges on a Milvus server (role-based access control).

Thin, translated calls to ``MilvusClient``; the account policy and the role
presets live in :mod:`ragsilo.admin`. Milvus Lite has no access control: every
call here refuses it with :class:`~ragsilo.errors.CapabilityError` before
anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ragsilo.errors import (
    AuthenticationError,
    CapabilityError,
    InputError,
    NotFoundError,
    StoreError,
)
from ragsilo.store.milvus import MilvusStore

#: Milvus's own users and roles, which ragsilo never drops.
BUILTIN_USERS = ("root",)
T = TypeVar("T")
BUILTIN_ROLES = ("admin", "public")


@dataclass(frozen=True)
class Grant:
    """One privilege of a role on an object (``Collection`` name or ``Global`` ``*``)."""

    object_type: str
    object_name: str
    privilege: str
    db_name: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "object_type": self.object_type,
            "object_name": self.object_name,
            "privilege": self.privilege,
            "db_name": self.db_name,
        }


@dataclass(frozen=True)
class RoleInfo:
    name: str
    grants: tuple[Grant, ...] = ()
    users: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "grants": [g.to_dict() for g in self.grants],
            "users": list(self.users),
        }


class RbacStore:
    """User and role administration on the server behind ``store``."""

    def __init__(self, store: MilvusStore) -> None:
        self._store = store

    def _require(self, what: str) -> None:
        info = self._store.info
        if not info.rbac:
            raise CapabilityError(
                f"{what} needs Milvus access control (users and roles), which "
                f"{info.kind} {info.version} does not have",
                hint="connect to a Milvus server with common.security.authorizationEnabled: true",
            )

    def _call(self, op: str, fn: Callable[[Any], T]) -> T:
        return self._store.call(op, fn)

    # ----------------------------------------------------------------- users
    def list_users(self) -> list[str]:
        self._require("listing users")
        return sorted(self._call("list users", lambda c: c.list_users()))

    def user_roles(self, user: str) -> list[str]:
        self._require("describing a user")
        if user not in self.list_users():
            raise NotFoundError(f"user {user!r} does not exist")
        res = self._call(f"describe user {user!r}", lambda c: c.describe_user(user))
        return sorted((res or {}).get("roles", ()))

    def create_user(self, user: str, password: str) -> None:
        self._require("creating a user")
        if user in self.list_users():
            raise InputError(f"user {user!r} exists already", hint="choose another name")
        self._call(f"create user {user!r}", lambda c: c.create_user(user, password))

    def change_password(self, user: str, old_password: str, new_password: str) -> None:
        self._require("changing a password")
        try:
            self._call(
                f"change the password of {user!r}",
                lambda c: c.update_password(user, old_password, new_password),
            )
        except StoreError as e:
            if "old password" in e.message.lower():
                raise AuthenticationError(
                    f"the current password given for user {user!r} is not correct",
                    hint="Milvus asks for the current password to change it",
                ) from None
            raise

    def drop_user(self, user: str) -> bool:
        """Drop ``user`` (its role assignments go with it); ``False`` when it did not exist."""
        self._require("deleting a user")
        if user in BUILTIN_USERS:
            raise InputError(f"user {user!r} is built into Milvus and cannot be deleted")
        if user not in self.list_users():
            return False
        for role in self.user_roles(user):
            self.revoke_role(user, role)
        self._call(f"delete user {user!r}", lambda c: c.drop_user(user))
        return True

    # ----------------------------------------------------------------- roles
    def list_roles(self) -> list[str]:
        self._require("listing roles")
        return sorted(self._call("list roles", lambda c: c.list_roles()))

    def describe_role(self, role: str) -> RoleInfo:
        self._require("describing a role")
        if role not in self.list_roles():
            raise NotFoundError(f"role {role!r} does not exist")
        res = self._call(f"describe role {role!r}", lambda c: c.describe_role(role))
        grants = tuple(
            sorted(
                (
                    Grant(
                        str(p.get("object_type", "")),
                        str(p.get("object_name", "")),
                        str(p.get("privilege", "")),
                        str(p.get("db_name", "")),
                    )
                    for p in (res or {}).get("privileges", [])
                ),
                key=lambda g: (g.object_type, g.object_name, g.privilege),
            )
        )
        users = tuple(u for u in self.list_users() if role in self._roles_of(u))
        return RoleInfo(role, grants, users)

    def _roles_of(self, user: str) -> tuple[str, ...]:
        res = self._call(f"describe user {user!r}", lambda c: c.describe_user(user))
        return tuple((res or {}).get("roles", ()))

    def create_role(self, role: str) -> None:
        self._require("creating a role")
        if role in self.list_roles():
            raise InputError(f"role {role!r} exists already", hint="choose another name")
        self._call(f"create role {role!r}", lambda c: c.create_role(role))

    def drop_role(self, role: str) -> bool:
        """Drop ``role``: its privileges are revoked and its users unassigned first (Milvus
        refuses to drop a role that still has privileges). ``False`` when it did not exist."""
        self._require("deleting a role")
        if role in BUILTIN_ROLES:
            raise InputError(f"role {role!r} is built into Milvus and cannot be deleted")
        if role not in self.list_roles():
            return False
        info = self.describe_role(role)
        for g in info.grants:
            self.revoke_privilege(role, g)
        for user in info.users:
            self.revoke_role(user, role)
        self._call(f"delete role {role!r}", lambda c: c.drop_role(role))
        return True

    def grant_privilege(self, role: str, grant: Grant) -> None:
        self._require("granting a privilege")
        self._call(
            f"grant {grant.privilege} on {grant.object_type} {grant.object_name!r} to {role!r}",
            lambda c: c.grant_privilege(
                role, grant.object_type, grant.privilege, grant.object_name, db_name=grant.db_name
            ),
        )

    def revoke_privilege(self, role: str, grant: Grant) -> None:
        self._require("revoking a privilege")
        self._call(
            f"revoke {grant.privilege} on {grant.object_type} {grant.object_name!r} from {role!r}",
            lambda c: c.revoke_privilege(
                role, grant.object_type, grant.privilege, grant.object_name, db_name=grant.db_name
            ),
        )

    def grant_role(self, user: str, role: str) -> None:
        self._require("assigning a role")
        self._call(f"assign role {role!r} to {user!r}", lambda c: c.grant_role(user, role))

    def revoke_role(self, user: str, role: str) -> None:
        self._require("unassigning a role")
        self._call(f"unassign role {role!r} from {user!r}", lambda c: c.revoke_role(user, role))
