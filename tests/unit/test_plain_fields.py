"""Values the plain path must not complete itself: it hands them to graphql-core, which
answers (data, errors, paths, messages) exactly as its stock executor does.

The app's own types never hold a null in a non-null field or a value its scalar cannot
serialize, so these cases are built here on a small schema of the same kinds of fields, each
executed by the plain-path executor and by Strawberry's stock one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from madhur_gql.graphql.execution import FastFieldsExecutor, plain_when_set

# Every item of a case holds its own awaitables, also where the query does not select them
# (or an error nulled their parent first): those are never awaited, on either path.
pytestmark = [
    pytest.mark.filterwarnings("ignore:coroutine 'later' was never awaited:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


async def later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


@strawberry.type
class Child:
    label: str
    tone: Colour | None = None

    @strawberry.field
    def fails(self) -> str:
        raise ValueError(f"no {self.label}")

    @strawberry.field
    def fails_quietly(self) -> str | None:
        raise ValueError(f"quietly no {self.label}")

    @strawberry.field
    async def eventually(self) -> str:
        return await later(self.label.upper())

    @strawberry.field
    async def eventually_fails(self) -> str:
        await later(None)
        raise ValueError(f"later no {self.label}")


@strawberry.type
class Item:
    name: str
    maybe: str | None
    count: int
    ratio: float
    flag: bool
    tags: list[str]
    maybe_tags: list[str | None] | None
    colour: Colour
    child: Child
    maybe_child: Child | None
    children: list[Child]
    maybe_children: list[Child | None] | None
    loose_children: list[Child | None]
    strict_children: list[Child] | None
    cached: strawberry.Private[bool | None] = None

    @strawberry.field
    def resolved_children(self) -> list[Child]:
        """A resolver's list of objects (completed like a plain one when plainly valid)."""
        return self.children

    @strawberry.field
    def resolved_loose(self) -> list[Child | None] | None:
        return self.loose_children

    @strawberry.field(graphql_type=bool)
    @plain_when_set("cached")
    def known(self) -> bool | Any:
        """Like likedByMe: the cached value when set, else something to await."""
        if self.cached is not None:
            return self.cached
        return later(self.name == "first")


@strawberry.type
class Query:
    item: Item | None
    strict: Item
    items: list[Item]
    maybe_items: list[Item | None] | None


def item(**changes: Any) -> Item:
    base: dict[str, Any] = {
        "name": "first",
        "maybe": None,
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "tags": ["a", "b"],
        "maybe_tags": ["c", None],
        "colour": Colour.RED,
        "child": Child(label="kid", tone=Colour.BLUE),
        "maybe_child": None,
        "children": [Child(label="one"), Child(label="two")],
        "maybe_children": [Child(label="three"), None],
        "loose_children": [Child(label="four"), None],
        "strict_children": [Child(label="five")],
        "cached": True,
    }
    return Item(**{**base, **changes})


def root(**changes: Any) -> Query:
    """Every item gets its own copy of the changes: a coroutine can be awaited only once."""
    fresh: Callable[[], dict[str, Any]] = lambda: {  # noqa: E731
        key: materialised(value) for key, value in changes.items()
    }
    return Query(
        item=item(**fresh()),
        strict=item(**fresh()),
        items=[item(), item(**fresh())],
        maybe_items=[item(**fresh()), None],
    )


@dataclasses.dataclass
class Later:
    """A value each item holds as an awaitable of its own."""

    value: Any


def materialised(value: Any) -> Any:
    if isinstance(value, Later):
        return later(value.value)
    if isinstance(value, list):
        return [materialised(v) for v in value]
    return value


ITEM = """name maybe count ratio flag tags maybeTags colour known
  child { label tone } maybeChild { label } children { label tone }
  maybeChildren { label }"""
PLAIN = f"{{ item {{ {ITEM} }} items {{ {ITEM} }} maybeItems {{ name child {{ label }} }} }}"
STRICT = f"{{ item {{ name }} strict {{ {ITEM} }} }}"

# Values as the normal path must see them: each is made fresh per execution (coroutines).
CASES: dict[str, tuple[Callable[[], Query], str]] = {
    "valid values": (root, PLAIN),
    "null in a non-null scalar": (lambda: root(name=None), PLAIN),
    "null in a non-null field up to a non-null root": (lambda: root(name=None), STRICT),
    "an int that is not one": (lambda: root(count="three"), PLAIN),
    "an int out of range": (lambda: root(count=2**40), PLAIN),
    "a float that is not finite": (lambda: root(ratio=float("nan")), PLAIN),
    "a value of another type for a string": (lambda: root(name=12), PLAIN),
    "an enum value it does not have": (lambda: root(colour="green"), PLAIN),
    "an enum given by its value": (lambda: root(colour="blue"), PLAIN),
    "an exception as the value": (lambda: root(maybe=ValueError("raised by value")), PLAIN),
    "an awaitable as the value": (lambda: root(maybe=Later("awaited")), PLAIN),
    "an awaitable in a list": (lambda: root(tags=["a", Later("b")]), PLAIN),
    "a string where a list goes": (lambda: root(tags="ab"), PLAIN),
    "a generator where a list goes": (lambda: root(tags=(t for t in "ab")), PLAIN),
    "a tuple for a list": (lambda: root(tags=("a", "b")), PLAIN),
    "null in a list of non-null": (lambda: root(tags=["a", None]), PLAIN),
    "null for a non-null object": (lambda: root(child=None), PLAIN),
    "null for a nullable object": (lambda: root(maybe_child=None), PLAIN),
    "an exception for an object": (lambda: root(maybe_child=ValueError("no child")), PLAIN),
    "an awaitable object": (lambda: root(child=Later(Child(label="late"))), PLAIN),
    "null inside a list of non-null objects": (
        lambda: root(children=[Child(label="x"), None]),
        PLAIN,
    ),
    "an awaitable inside a list of objects": (
        lambda: root(children=[Child(label="x"), Later(Child(label="y"))]),
        PLAIN,
    ),
    "something not a list for a list of objects": (lambda: root(children=7), PLAIN),
    "the resolver when the cached value is not set": (lambda: root(cached=None), PLAIN),
    "errors below plain objects and lists": (
        root,
        "{ item { child { fails } children { label fails } maybeChildren { fails } } }",
    ),
    "errors below lists whose items or whose list may be null": (
        root,
        """{ item { looseChildren { label fails } strictChildren { label fails } }
           items { looseChildren { eventuallyFails } strictChildren { eventuallyFails } } }""",
    ),
    "nullable errors below plain lists": (
        root,
        "{ items { children { label failsQuietly } } maybeChild: item { maybeChildren { failsQuietly } } }",
    ),
    "async fields below plain objects and lists": (
        root,
        "{ items { child { eventually } children { label eventually } } }",
    ),
    "async errors below plain lists": (
        root,
        "{ item { children { label eventuallyFails } } items { name } }",
    ),
    "a resolver's lists of objects": (
        root,
        """{ items { resolvedChildren { label tone eventually } resolvedLoose { label fails } }
           item { resolvedChildren { failsQuietly } } }""",
    ),
    "null in a resolver's list of non-null objects": (
        lambda: root(children=[Child(label="x"), None], loose_children=[None, Child(label="y")]),
        "{ items { resolvedChildren { label } resolvedLoose { label } } }",
    ),
    "an awaitable or an error in a resolver's list of objects": (
        lambda: root(
            children=[Child(label="x"), Later(Child(label="y"))],
            loose_children=[ValueError("no item"), Child(label="z")],
        ),
        "{ items { resolvedChildren { label } resolvedLoose { label } } }",
    ),
    "aliases, fragments, directives": (
        root,
        """query($y: Boolean!) { a: item { n: name ...bits child { ... on Child { l: label } } }
           b: items { name @include(if: $y) count @skip(if: $y) colour } }
           fragment bits on Item { name tags known __typename }""",
    ),
}


def schemas(extensions: list[Any] | None = None) -> Iterator[strawberry.Schema]:
    yield strawberry.Schema(
        Query, execution_context_class=FastFieldsExecutor, extensions=extensions or []
    )
    yield strawberry.Schema(Query, extensions=extensions or [])


def answer(schema: strawberry.Schema, make: Callable[[], Query], query: str) -> tuple[Any, Any]:
    result = asyncio.run(schema.execute(query, root_value=make(), variable_values={"y": True}))
    errors = [error.formatted for error in result.errors or []]
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize("case", list(CASES))
def test_the_plain_path_answers_as_the_stock_executor(case: str) -> None:
    make, query = CASES[case]
    plain, stock = (answer(schema, make, query) for schema in schemas())
    assert plain == stock
    assert plain[0] is not None or plain[1]


def test_a_null_in_a_non_null_field_is_still_an_error_with_its_path() -> None:
    fast = next(schemas())
    data, errors = answer(fast, lambda: root(name=None), f"{{ item {{ {ITEM} }} }}")
    assert data == {"item": None}
    assert [(e["message"], e["path"]) for e in errors] == [
        ("Cannot return null for non-nullable field Item.name.", ["item", "name"])
    ]
    data, errors = answer(fast, lambda: root(tags=["a", None]), "{ items { tags } }")
    assert data is None  # items is [Item!]!: the null travels up to the root
    assert [e["path"] for e in errors] == [["items", 1, "tags", 1]]


class Shout(SchemaExtension):
    """A `resolve` hook: every field goes through it, so no field may skip it."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


def test_a_resolve_hook_still_sees_every_field() -> None:
    fast, stock = schemas([Shout])
    query = "{ item { name child { label } children { label } } }"
    assert answer(fast, root, query) == answer(stock, root, query)
    data, _ = answer(fast, root, query)
    assert data == {
        "item": {
            "name": "FIRST",
            "child": {"label": "KID"},
            "children": [{"label": "ONE"}, {"label": "TWO"}],
        }
    }


def test_an_error_value_is_located_at_its_field() -> None:
    data, errors = answer(next(schemas()), lambda: root(count="three"), "{ item { name count } }")
    assert data == {"item": None}
    assert len(errors) == 1 and errors[0]["path"] == ["item", "count"]
    assert "Int cannot represent" in errors[0]["message"]


def test_an_operation_leaves_no_reference_cycle_behind() -> None:
    """The executor (and the context it holds) is freed by reference counting once its
    result is complete, without waiting for the cycle collector."""
    import gc
    import weakref

    executors: list[weakref.ref[Any]] = []

    class Watched(FastFieldsExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            executors.append(weakref.ref(self))

    schema = strawberry.Schema(Query, execution_context_class=Watched)
    gc.disable()
    try:
        for query in (PLAIN, "{ items { child { eventually } } }"):
            result = asyncio.run(schema.execute(query, root_value=root()))
            assert result.errors is None
            del result
            assert executors[-1]() is None
    finally:
        gc.enable()
