"""`create-admin`: an administrator account, its password never on the command line."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from madhur_gql.cli.output import console
from madhur_gql.config import get_settings


def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email address.")],
    display_name: Annotated[str, typer.Option(help="Shown in the app.")] = "Administrator",
) -> None:
    """Create an administrator account.

    The password comes from MADHUR_ADMIN_PASSWORD or a hidden prompt (asked twice), never
    from an argument: arguments end up in shell history and in `ps` output.
    """
    from madhur_gql.db.connection import open_database
    from madhur_gql.documents import Role
    from madhur_gql.errors import MadhurError
    from madhur_gql.services.accounts.service import AccountService

    password = os.environ.get("MADHUR_ADMIN_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    settings = get_settings()

    async def run() -> str:
        async with open_database(settings):
            user = await AccountService(settings).create_user(
                email, password, display_name, role=Role.ADMIN
            )
            return str(user.id)

    try:
        user_id = asyncio.run(run())
    except MadhurError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from error
    console.print(f"created administrator {email.strip().lower()} ({user_id})")
