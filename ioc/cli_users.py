"""``ioc user add NAME --role ROLE``: dashboard accounts (password from a prompt or IOC_NEW_USER_PASSWORD)."""

from __future__ import annotations

import os

import typer

from ioc.accounts import Role, UserError, add_user
from ioc.db import connect
from ioc.settings import Settings, running_settings

PASSWORD_ENV = "IOC_NEW_USER_PASSWORD"


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Dashboard users (login accounts and roles).", no_args_is_help=True)

    @users.command("add")
    def add(
        name: str = typer.Argument(..., help="login name: 2-64 of a-z 0-9 _ . -"),
        role: Role = typer.Option(
            ..., "--role", help="leader, operator, triage, admin or display (/wall only)"
        ),
        display_name: str | None = typer.Option(None, "--display-name", help="name shown in the navbar"),
        replace: bool = typer.Option(
            False, "--replace", help="reset the password and role of an existing user"
        ),
    ) -> None:
        """Create a user. The password comes from $IOC_NEW_USER_PASSWORD or a hidden prompt."""
        password = os.environ.get(PASSWORD_ENV) or typer.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        settings = running_settings(Settings())  # the database of a running `ioc up` when env is silent
        try:
            with connect(settings.database_dsn()) as conn:
                add_user(conn, name, password, role.value, display_name, replace=replace)
        except (UserError, RuntimeError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        typer.echo(f"user {name!r} ({role.value}) saved")

    app.add_typer(users, name="user")
