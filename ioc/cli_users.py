"""``ioc user …``: dashboard accounts, their roles, scopes, sessions and second factor.

Passwords come from a hidden prompt or ``IOC_NEW_USER_PASSWORD`` and pass the password policy
(:func:`ioc.accounts.check_password`). Every change is audited with the actor ``cli``.
"""

from __future__ import annotations

import os

import typer

from ioc import accounts
from ioc.access import Role
from ioc.accounts import UserError
from ioc.crypto import settings_keyring
from ioc.db import connect
from ioc.i18n import cli_time
from ioc.settings import Settings, running_settings

PASSWORD_ENV = "IOC_NEW_USER_PASSWORD"
ROLES_HELP = ", ".join(f"{r.value} ({r.name_in('vi')})" for r in Role)


def _settings() -> Settings:
    return running_settings(Settings())  # the database of a running `ioc up` when env is silent


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


def _password() -> str:
    return os.environ.get(PASSWORD_ENV) or typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Dashboard users (login accounts, roles, scopes, sessions).", no_args_is_help=True)

    @users.command("add")
    def add(
        name: str = typer.Argument(..., help="login name: 2-64 of a-z 0-9 _ . -"),
        role: Role = typer.Option(..., "--role", help=ROLES_HELP),
        display_name: str | None = typer.Option(None, "--display-name", help="name shown in the navbar"),
        replace: bool = typer.Option(False, "--replace", help="reset the password and role of an existing user"),
        temporary: bool = typer.Option(False, "--temporary", help="the user must change it at the first login"),
        sector: list[str] = typer.Option([], "--sector", help="department (agency code): repeatable"),
        unit: list[str] = typer.Option([], "--unit", help="admin unit (code or name): repeatable"),
    ) -> None:
        """Create a user. The password comes from $IOC_NEW_USER_PASSWORD or a hidden prompt."""
        password = _password()
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.add_user(conn, name, password, role.value, display_name, replace=replace, actor="cli",
                                  must_change=temporary)  # fmt: skip
                if sector or unit:
                    accounts.set_scope(conn, name, sector, unit, actor="cli")
        except (UserError, RuntimeError, ValueError) as exc:
            raise _fail(exc) from None
        typer.echo(f"user {name!r} ({role.value}) saved")

    @users.command("list")
    def list_() -> None:
        """Every account: role, scope, status, live sessions."""
        with connect(_settings().database_dsn()) as conn:
            rows = accounts.list_users(conn)
        for u in rows:
            flags = [f for f, on in (("disabled", u.disabled), ("must-change", u.must_change_password),
                                     ("totp", u.has_totp)) if on]  # fmt: skip
            typer.echo(f"{u.username:<20} {u.role:<16} sessions={u.live_sessions:<3} {' '.join(flags):<24} "
                       f"{', '.join(u.scopes)}")  # fmt: skip

    @users.command("role")
    def set_role(name: str, role: Role = typer.Argument(..., help=ROLES_HELP)) -> None:
        """Change a user's role (their sessions end)."""
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.set_role(conn, name, role.value, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"user {name!r} is now {role.value}; their sessions were revoked")

    @users.command("scope")
    def set_scope(
        name: str,
        sector: list[str] = typer.Option([], "--sector", help="department (agency code): repeatable"),
        unit: list[str] = typer.Option([], "--unit", help="admin unit (code or name): repeatable"),
    ) -> None:
        """Replace a user's scope (none: city-wide, for city roles only)."""
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.set_scope(conn, name, sector, unit, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"user {name!r}: sectors {sector or '-'}, units {unit or '-'}")

    @users.command("disable")
    def disable(name: str) -> None:
        """Disable an account (its sessions end at once)."""
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.set_disabled(conn, name, True, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"user {name!r} disabled")

    @users.command("enable")
    def enable(name: str) -> None:
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.set_disabled(conn, name, False, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"user {name!r} enabled")

    @users.command("delete")
    def delete(name: str, yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
        """Delete an account (sessions revoked; the audit trail keeps what it did)."""
        if not yes:
            typer.confirm(f"delete user {name!r}?", abort=True)
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.delete_user(conn, name, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"user {name!r} deleted")

    @users.command("password")
    def password(name: str, keep: bool = typer.Option(False, "--keep", help="not temporary")) -> None:
        """Reset a password (temporary unless --keep: the user sets a new one at the next login)."""
        pw = _password()
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.set_password(conn, name, pw, actor="cli", must_change=not keep)
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"password of {name!r} reset; their sessions were revoked")

    @users.command("sessions")
    def sessions(name: str | None = typer.Argument(None), all_: bool = typer.Option(False, "--all")) -> None:
        """Live sessions (of one user, or everyone's); --all includes ended ones."""
        with connect(_settings().database_dsn()) as conn:
            rows = accounts.list_sessions(conn, name, live_only=not all_)
        for s in rows:
            state = f"revoked {cli_time(s.revoked_at)} ({s.revoked_why})" if s.revoked_at else "live"
            typer.echo(f"{s.id_hash[:12]}  {s.username:<16} {s.role_at_login:<14} {s.stage:<16} "
                       f"from {s.ip or '?':<15} since {cli_time(s.created_at)}  seen {cli_time(s.last_seen_at)}  "
                       f"{state}")  # fmt: skip
        if not rows:
            typer.echo("no sessions")

    @users.command("revoke")
    def revoke(
        name: str | None = typer.Argument(None, help="end every session of this user"),
        session: str | None = typer.Option(None, "--session", help="one session, by the id prefix `sessions` shows"),
    ) -> None:
        """End sessions now: all of a user's, or one."""
        with connect(_settings().database_dsn(), autocommit=True) as conn:
            if session:
                hits = [s for s in accounts.list_sessions(conn, name) if s.id_hash.startswith(session)]
                if len(hits) != 1:
                    raise _fail(ValueError(f"{len(hits)} live sessions match {session!r}"))
                accounts.revoke_session(conn, hits[0].id_hash, "revoked by cli")
                n = 1
            elif name:
                n = accounts.revoke_user_sessions(conn, name, "revoked by cli")
            else:
                raise _fail(ValueError("name a user or --session"))
            from ioc.audit import audit

            audit(conn, "cli", "user.sessions_revoked", name, {"count": n})
        typer.echo(f"{n} session(s) revoked")

    totp = typer.Typer(help="The TOTP second factor (admin and leader accounts).", no_args_is_help=True)

    @totp.command("enable")
    def totp_enable(name: str) -> None:
        """Give a user a new second factor; prints the otpauth:// URI to scan (once)."""
        settings = _settings()
        try:
            with connect(settings.database_dsn()) as conn:
                uri = accounts.enrol_totp(conn, settings_keyring(settings), name, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(uri)

    @totp.command("disable")
    def totp_disable(name: str) -> None:
        try:
            with connect(_settings().database_dsn()) as conn:
                accounts.disable_totp(conn, name, actor="cli")
        except UserError as exc:
            raise _fail(exc) from None
        typer.echo(f"second factor of {name!r} removed")

    users.add_typer(totp, name="totp")
    app.add_typer(users, name="user")
