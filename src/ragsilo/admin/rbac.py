"""User and role administration for a silo: the account policy, role presets, and the calls.

Three presets give a role the privileges a silo needs, on the silo's
collections (the chunks, ``<name>_centroids`` and the ``<name>__rebuild``
scratch collection of a recluster):

* ``reader``: search, query, load state and statistics (Milvus 2.3 asks for ``Load``
  to read a load state, so it is part of it);
* ``writer``: reader, plus insert, upsert, delete, flush and new partitions;
* ``admin``: every privilege on those collections, plus creating, dropping,
  describing and listing collections (database-wide in Milvus).

Names and passwords are checked against :mod:`ragsilo.admin.policy` before
anything reaches the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragsilo.admin.policy import check_password, check_role_name, check_username
from ragsilo.errors import AuthenticationError, InputError
from ragsilo.settings import MilvusSettings
from ragsilo.store.milvus import MilvusStore
from ragsilo.store.rbac import Grant, RbacStore, RoleInfo

# Milvus 2.3 checks get_load_state against the Load privilege, so a reader holds it too.
READER_PRIVILEGES = (
    "Search",
    "Query",
    "GetLoadState",
    "GetLoadingProgress",
    "GetStatistics",
    "IndexDetail",
    "HasPartition",
    "ShowPartitions",
    "Load",
)
WRITER_PRIVILEGES = (
    *READER_PRIVILEGES,
    "Insert",
    "Upsert",
    "Delete",
    "Flush",
    "GetFlushState",
    "CreatePartition",
)
ADMIN_PRIVILEGES = ("*",)
READER_GLOBAL = ("DescribeCollection", "ShowCollections")
ADMIN_GLOBAL = (*READER_GLOBAL, "CreateCollection", "DropCollection", "RenameCollection")

PRESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reader": (READER_PRIVILEGES, READER_GLOBAL),
    "writer": (WRITER_PRIVILEGES, READER_GLOBAL),
    "admin": (ADMIN_PRIVILEGES, ADMIN_GLOBAL),
}


@dataclass(frozen=True)
class UserInfo:
    name: str
    roles: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "roles": list(self.roles)}


def preset_grants(preset: str, collections: Sequence[str], db_name: str = "") -> list[Grant]:
    """The privileges of ``preset`` on ``collections``."""
    if preset not in PRESETS:
        raise InputError(f"preset {preset!r} is unknown; choose {', '.join(PRESETS)}")
    per_collection, global_ = PRESETS[preset]
    grants = [Grant("Collection", c, p, db_name) for c in collections for p in per_collection]
    grants += [Grant("Global", "*", p, db_name) for p in global_]
    return grants


class Admin:
    """Users and roles of the Milvus server a silo lives on.

    Obtain one from :meth:`ragsilo.Silo.admin`. Every method checks the account
    policy first and refuses Milvus Lite with
    :class:`~ragsilo.errors.CapabilityError`.
    """

    def __init__(
        self,
        store: MilvusStore,
        collections: Sequence[str],
        login: MilvusSettings | None = None,
    ) -> None:
        self._rbac = RbacStore(store)
        self._collections = tuple(collections)
        self._login = login

    @property
    def collections(self) -> tuple[str, ...]:
        """The collections the presets grant privileges on."""
        return self._collections

    # ----------------------------------------------------------------- users
    def users(self) -> list[UserInfo]:
        return [UserInfo(u, tuple(self._rbac.user_roles(u))) for u in self._rbac.list_users()]

    def create_user(self, name: str, password: str, *, roles: Sequence[str] = ()) -> UserInfo:
        check_username(name)
        check_password(password)
        for r in roles:
            check_role_name(r)
        missing = sorted(set(roles) - set(self._rbac.list_roles()))
        if missing:
            raise InputError(
                f"roles {missing} do not exist", hint="create them first: ragsilo roles create"
            )
        self._rbac.create_user(name, password)
        for r in roles:
            self._rbac.grant_role(name, r)
        return UserInfo(name, tuple(sorted(roles)))

    def change_password(
        self, name: str, new_password: str, *, old_password: str | None = None
    ) -> None:
        """Set ``name``'s password. Milvus asks for the current one; when it is not given and
        ``name`` is the logged-in user, the login's password is used (so ``root`` resets its
        default password with one command)."""
        check_username(name)
        check_password(new_password)
        if old_password is None:
            old_password = self._login_password(name)
        if old_password is None:
            raise AuthenticationError(
                f"changing the password of {name!r} needs its current password",
                hint="give it with --old-password-file, or log in as that user",
            )
        if old_password == new_password:
            raise InputError("the new password is the same as the current one")
        self._rbac.change_password(name, old_password, new_password)

    def _login_password(self, name: str) -> str | None:
        if self._login is None or self._login.login_user != name:
            return None
        token = self._login.resolved_token()
        user, sep, password = token.partition(":")
        return password if sep and user == name else None

    def delete_user(self, name: str) -> bool:
        check_username(name)
        return self._rbac.drop_user(name)

    # ----------------------------------------------------------------- roles
    def roles(self) -> list[RoleInfo]:
        return [self._rbac.describe_role(r) for r in self._rbac.list_roles()]

    def role(self, name: str) -> RoleInfo:
        check_role_name(name)
        return self._rbac.describe_role(name)

    def create_role(self, name: str, *, preset: str | None = None) -> RoleInfo:
        check_role_name(name)
        grants = preset_grants(preset, self._collections) if preset else []
        self._rbac.create_role(name)
        for g in grants:
            self._rbac.grant_privilege(name, g)
        return self._rbac.describe_role(name)

    def delete_role(self, name: str) -> bool:
        check_role_name(name)
        return self._rbac.drop_role(name)

    def grants_for(
        self,
        *,
        privilege: str | None = None,
        preset: str | None = None,
        collection: str | None = None,
        global_: bool = False,
    ) -> list[Grant]:
        """What ``privilege`` (on ``collection``, the silo's collections, or globally) or
        ``preset`` stands for."""
        if (privilege is None) == (preset is None):
            raise InputError("give either a privilege or a preset")
        if preset is not None:
            targets = [collection] if collection else list(self._collections)
            return preset_grants(preset, targets)
        assert privilege is not None
        if not privilege.replace("*", "").isalnum() and privilege != "*":
            raise InputError(f"privilege {privilege!r} is not a Milvus privilege name")
        if global_:
            return [Grant("Global", "*", privilege)]
        targets = [collection] if collection else list(self._collections)
        return [Grant("Collection", c, privilege) for c in targets]

    def grant(self, role: str, grants: Sequence[Grant]) -> RoleInfo:
        check_role_name(role)
        info = self._rbac.describe_role(role)  # NotFoundError before anything changes
        have = set(info.grants)
        for g in grants:
            if not any(_same(g, h) for h in have):
                self._rbac.grant_privilege(role, g)
        return self._rbac.describe_role(role)

    def revoke(self, role: str, grants: Sequence[Grant]) -> RoleInfo:
        check_role_name(role)
        info = self._rbac.describe_role(role)
        for g in grants:
            for h in info.grants:
                if _same(g, h):
                    self._rbac.revoke_privilege(role, h)
        return self._rbac.describe_role(role)

    def assign(self, role: str, user: str) -> None:
        check_role_name(role)
        check_username(user)
        self._rbac.describe_role(role)
        if user not in self._rbac.list_users():
            from ragsilo.errors import NotFoundError

            raise NotFoundError(f"user {user!r} does not exist")
        self._rbac.grant_role(user, role)

    def unassign(self, role: str, user: str) -> None:
        check_role_name(role)
        check_username(user)
        if role not in self._rbac.user_roles(user):
            raise InputError(f"user {user!r} does not have role {role!r}")
        self._rbac.revoke_role(user, role)


def _same(a: Grant, b: Grant) -> bool:
    """Whether two grants are the same privilege (Milvus reports ``*`` as ``All`` and fills in
    the database name)."""

    def norm(p: str) -> str:
        return "*" if p in ("*", "All") else p

    return (
        a.object_type == b.object_type
        and a.object_name == b.object_name
        and norm(a.privilege) == norm(b.privilege)
        and (not a.db_name or not b.db_name or a.db_name == b.db_name)
    )
