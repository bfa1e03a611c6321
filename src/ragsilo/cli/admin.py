"""``ragsilo users``, ``ragsilo roles``: Milvus access control for a silo.

Passwords are never taken on the command line: they are read from a hidden
prompt, from ``--password-file`` (``-`` is standard input), or from standard
input when it is not a terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ragsilo.cli.common import confirm, get_state, out_console, run
from ragsilo.errors import InputError

users_app = typer.Typer(
    help="Milvus users: create, list, change passwords, delete.", no_args_is_help=True
)
roles_app = typer.Typer(
    help="Milvus roles: create (from a preset), list, grant, revoke, assign to users.",
    no_args_is_help=True,
)

PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the password from this file's first line ('-': standard input)",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print as JSON")]


def register_admin_commands(app: typer.Typer) -> None:
    """Add the commands to the main ``ragsilo`` app."""
    app.add_typer(users_app, name="users")
    app.add_typer(roles_app, name="roles")
    app.add_typer(index_app, name="index")
    app.add_typer(replicas_app, name="replicas")
    app.add_typer(config_app, name="config")
    from ragsilo.cli.query import ask, delete

    app.command("ask")(ask)
    app.command("delete")(delete)


def read_secret(path: Path | None, prompt: str, *, confirm: bool) -> str:
    """A secret from a file, standard input, or a hidden prompt (never an argument)."""
    if path is not None:
        if str(path) == "-":
            text = sys.stdin.readline()
        else:
            try:
                text = (
                    path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
                )
            except OSError as e:
                raise InputError(f"cannot read {str(path)!r}: {e.strerror}") from None
    elif not sys.stdin.isatty():
        text = sys.stdin.readline()
    else:
        text = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    text = text.rstrip("\r\n")
    if not text:
        raise InputError(f"no {prompt.lower()} was given")
    return text


# ------------------------------------------------------------------------- users
@users_app.command("create")
def users_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name")],
    password_file: PasswordFile = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help="Assign this role (repeatable)")
    ] = None,
) -> None:
    """Create a user; the password is checked against the policy before the server sees it."""
    from ragsilo.admin.policy import check_password, check_username

    state = get_state(ctx)

    def body() -> None:
        check_username(name)
        password = check_password(read_secret(password_file, "Password", confirm=True))
        with state.silo() as silo:
            user = silo.admin().create_user(name, password, roles=role or [])
        roles = f" with roles {', '.join(user.roles)}" if user.roles else ""
        out_console().print(f"created user {user.name}{roles}")

    run(body)


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the users and their roles."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            users = silo.admin().users()
        con = out_console()
        if as_json:
            con.print_json(json.dumps([u.to_dict() for u in users]))
            return
        for u in users:
            con.print(f"{u.name}  roles: {', '.join(u.roles) or '-'}")

    run(body)


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User whose password changes (e.g. root)")],
    password_file: PasswordFile = None,
    old_password_file: Annotated[
        Path | None,
        typer.Option(
            "--old-password-file",
            help="The current password (default: the login's, when NAME is the login user)",
        ),
    ] = None,
) -> None:
    """Change a user's password; `ragsilo users passwd root`, logged in as root, replaces
    Milvus's default root password."""
    from ragsilo.admin.policy import check_password, check_username

    state = get_state(ctx)

    def body() -> None:
        check_username(name)
        old = (
            read_secret(old_password_file, "Current password", confirm=False)
            if old_password_file is not None
            else None
        )
        new = check_password(read_secret(password_file, "New password", confirm=True))
        with state.silo() as silo:
            silo.admin().change_password(name, new, old_password=old)
        note = ""
        if state.settings().milvus.login_user == name:
            note = " (update your login: milvus.token or milvus.password)"
        out_console().print(f"changed the password of {name}{note}")

    run(body)


@users_app.command("delete")
def users_delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a user (its role assignments go with it)."""
    from ragsilo.admin.policy import check_username

    state = get_state(ctx)

    def body() -> None:
        check_username(name)
        confirm(yes, f"Delete user {name!r}?", f"refusing to delete user {name!r}")
        with state.silo() as silo:
            if not silo.admin().delete_user(name):
                from ragsilo.errors import NotFoundError

                raise NotFoundError(f"user {name!r} does not exist")
        out_console().print(f"deleted user {name}")

    run(body)


# ------------------------------------------------------------------------- roles
Preset = Annotated[
    str | None,
    typer.Option("--preset", help="reader | writer | admin, on this silo's collections"),
]
Collection = Annotated[
    str | None,
    typer.Option("--on", help="Collection (default: this silo's collections)"),
]


@roles_app.command("create")
def roles_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Role name")],
    preset: Preset = None,
) -> None:
    """Create a role, with a preset's privileges on this silo's collections."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            info = silo.admin().create_role(name, preset=preset)
        out_console().print(f"created role {info.name} with {len(info.grants)} privileges")

    run(body)


@roles_app.command("list")
def roles_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the roles with their privileges and users."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            roles = silo.admin().roles()
        con = out_console()
        if as_json:
            con.print_json(json.dumps([r.to_dict() for r in roles]))
            return
        for r in roles:
            con.print(f"[bold]{r.name}[/bold]  users: {', '.join(r.users) or '-'}")
            for g in r.grants:
                con.print(f"  {g.privilege} on {g.object_type} {g.object_name}")

    run(body)


def _grants_command(
    ctx: typer.Context,
    role: str,
    privilege: str | None,
    preset: str | None,
    collection: str | None,
    global_: bool,
    revoke: bool,
) -> None:

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            admin = silo.admin()
            grants = admin.grants_for(
                privilege=privilege, preset=preset, collection=collection, global_=global_
            )
            info = admin.revoke(role, grants) if revoke else admin.grant(role, grants)
        verb = "revoked from" if revoke else "granted to"
        out_console().print(
            f"{privilege or preset} {verb} {role}; it now has {len(info.grants)} privileges"
        )

    run(body)


@roles_app.command("grant")
def roles_grant(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="Role")],
    privilege: Annotated[
        str | None, typer.Argument(help="Milvus privilege, e.g. Search, Insert, or *")
    ] = None,
    preset: Preset = None,
    collection: Collection = None,
    global_: Annotated[bool, typer.Option("--global", help="A database-wide privilege")] = False,
) -> None:
    """Grant a privilege (or a preset's privileges) to a role."""
    _grants_command(ctx, role, privilege, preset, collection, global_, revoke=False)


@roles_app.command("revoke")
def roles_revoke(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="Role")],
    privilege: Annotated[str | None, typer.Argument(help="Milvus privilege")] = None,
    preset: Preset = None,
    collection: Collection = None,
    global_: Annotated[bool, typer.Option("--global", help="A database-wide privilege")] = False,
) -> None:
    """Revoke a privilege (or a preset's privileges) from a role."""
    _grants_command(ctx, role, privilege, preset, collection, global_, revoke=True)


@roles_app.command("assign")
def roles_assign(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="Role")],
    user: Annotated[str, typer.Argument(help="User")],
) -> None:
    """Give a user a role."""
    _membership(ctx, role, user, assign=True)


@roles_app.command("unassign")
def roles_unassign(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="Role")],
    user: Annotated[str, typer.Argument(help="User")],
) -> None:
    """Take a role away from a user."""
    _membership(ctx, role, user, assign=False)


def _membership(ctx: typer.Context, role: str, user: str, *, assign: bool) -> None:

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            admin = silo.admin()
            (admin.assign if assign else admin.unassign)(role, user)
        done = f"assigned role {role} to {user}" if assign else f"took role {role} from {user}"
        out_console().print(done)

    run(body)


@roles_app.command("delete")
def roles_delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Role to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a role: its privileges are revoked and its users unassigned first."""

    state = get_state(ctx)

    def body() -> None:
        confirm(yes, f"Delete role {name!r}?", f"refusing to delete role {name!r}")
        with state.silo() as silo:
            if not silo.admin().delete_role(name):
                from ragsilo.errors import NotFoundError

                raise NotFoundError(f"role {name!r} does not exist")
        out_console().print(f"deleted role {name}")

    run(body)


# ------------------------------------------------------------------------- index
index_app = typer.Typer(
    help="The vector index: show it, change its type or parameters, rebuild it.",
    no_args_is_help=True,
)
replicas_app = typer.Typer(help="In-memory replicas of the collection.", no_args_is_help=True)


def _params(items: list[str] | None, what: str) -> dict[str, object] | None:
    """``["M=32", "efConstruction=200"]`` → ``{"M": 32, "efConstruction": 200}``."""
    if not items:
        return None
    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{what} {item!r} is not of the form key=value")
        value: object = raw.strip()
        low = raw.strip().lower()
        if low in ("true", "false"):
            value = low == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    continue
        out[key.strip()] = value
    return out


@index_app.command("show")
def index_show(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Show the index type, metric, parameters and row count."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            info = silo.index()
        con = out_console()
        if as_json:
            con.print_json(json.dumps(info))
            return
        con.print(f"collection   {info['collection']}")
        con.print(f"index        {info['type']} ({info['metric']})")
        con.print(f"build        {json.dumps(info['params'], sort_keys=True)}")
        con.print(f"search       {json.dumps(info['search_params'], sort_keys=True)}")
        con.print(f"rows         {info['rows']}, dimension {info['dimension']}")
        con.print(f"server types {', '.join(info['server_types'])}")

    run(body)


@index_app.command("set")
def index_set(
    ctx: typer.Context,
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="Index type, or auto")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Build parameter KEY=VALUE")
    ] = None,
    search_param: Annotated[
        list[str] | None, typer.Option("--search-param", "-s", help="Search parameter KEY=VALUE")
    ] = None,
) -> None:
    """Replace the vector index (release, drop, build, load, check); every row is kept."""

    state = get_state(ctx)

    def body() -> None:
        params = _params(param, "--param")
        search = _params(search_param, "--search-param")
        with state.silo() as silo:
            plan = silo.set_index(type_, params=params, search_params=search)
            rows = silo.stats().rows
        out_console().print(
            f"index is now {plan.type} {json.dumps(plan.build, sort_keys=True)}, "
            f"{rows} rows kept: {plan.reason}"
        )

    run(body)


@index_app.command("rebuild")
def index_rebuild(ctx: typer.Context) -> None:
    """Build the vector index again with the same type and parameters; every row is kept."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            plan = silo.rebuild_index()
            rows = silo.stats().rows
        out_console().print(f"rebuilt the {plan.type} index, {rows} rows kept")

    run(body)


@replicas_app.command("show")
def replicas_show(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Show the collection's in-memory replicas and their query nodes."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            replicas = silo.replicas()
            configured = silo.settings.collection.replicas
        con = out_console()
        if as_json:
            con.print_json(json.dumps({"configured": configured, "replicas": replicas}))
            return
        con.print(f"{len(replicas)} replica(s) loaded (collection.replicas: {configured})")
        for r in replicas:
            con.print(
                f"  replica {r['id']}: nodes {', '.join(r['nodes']) or '-'}, {r['shards']} shard(s)"
            )

    run(body)


@replicas_app.command("set")
def replicas_set(
    ctx: typer.Context,
    n: Annotated[int, typer.Argument(help="Number of in-memory replicas")],
) -> None:
    """Load the collection with N replicas (it is released and loaded again)."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            before = silo.set_replicas(n)
        out_console().print(f"replicas: {before} -> {n}")

    run(body)


# ------------------------------------------------------------------------ config
config_app = typer.Typer(help="The settings in effect.", no_args_is_help=True)


@config_app.command("show")
def config_show(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Print the settings in effect (file, environment and options merged); secrets are
    masked."""
    import yaml

    state = get_state(ctx)

    def body() -> None:
        data = state.settings().redacted()
        con = out_console()
        if as_json:
            con.print_json(json.dumps(data))
        else:
            con.print(yaml.safe_dump(data, sort_keys=False).rstrip(), markup=False)

    run(body)
