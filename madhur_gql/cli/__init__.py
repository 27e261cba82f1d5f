"""The `madhur-gql` command; each subcommand lives in the module named after its domain."""

from __future__ import annotations

import typer

from madhur_gql.cli import accounts, catalog, enrich, evaluate, server
from madhur_gql.config import get_settings
from madhur_gql.log_config import configure_logging

app = typer.Typer(
    help="Madhur: a GraphQL music API with hybrid recommendations.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)


app.command()(server.serve)
app.command("export-schema")(server.export_schema)
app.command()(evaluate.evaluate)
app.command("import-songs")(catalog.import_songs_command)
app.command()(enrich.enrich)
app.command("create-admin")(accounts.create_admin)
