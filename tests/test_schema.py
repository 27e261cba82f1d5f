"""schema.graphql is what codegen clients build from: it must match the code exactly."""

from madhur_gql.graphql.schema import SCHEMA_FILE, export_sdl


def test_exported_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == export_sdl(), (
        "schema.graphql is out of date: run `make schema` and commit it"
    )


def test_schema_exposes_the_core_types() -> None:
    sdl = SCHEMA_FILE.read_text()
    for type_name in ("type User", "type Song", "type Interaction", "type Recommendation"):
        assert type_name in sdl
