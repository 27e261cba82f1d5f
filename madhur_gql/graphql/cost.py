"""What an operation costs, checked before it runs, charged as it runs, and budgeted per client.

A unit is about the work of serving one object (a song read and shaped, ~0.1 ms here).
Before execution the estimate multiplies page sizes and adds each resolver's own price
(searches and live orderings scan the catalog: their price follows the catalog's size);
lists whose length only the data knows (a playlist's songs) are charged their real length
while they resolve. Over MADHUR_MAX_QUERY_COST either way: QUERY_TOO_COMPLEX. The measured
time of each shape against its estimate is bench/cost_model.py's.

The same units feed each client's budget over time (`budget.py`): refused with
TOO_MANY_REQUESTS and `retryAfter` when a client has spent it. Queries also get a deadline
(MADHUR_OPERATION_TIMEOUT_SECONDS): the view turns an expired one into REQUEST_TIMEOUT.
Mutations are not cut short halfway; their work is bounded by their own limits.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from madhur_gql.errors import MadhurError
from madhur_gql.graphql.budget import CostBudget
from madhur_gql.graphql.cursors import MAX_PAGE_SIZE

# How many objects a field returns: `first` of pages, `length` of a mood journey, `count`
# of mixes.
PAGE_ARGUMENTS = ("first", "last", "limit", "length", "count")
DEFAULT_LIST_SIZE = 10
# Unpaginated lists of objects that can be longer than DEFAULT_LIST_SIZE ("Type.field").
# Playlist.songs holds up to 1000 songs: 100 are estimated, the rest charged as they are read.
LIST_SIZE_HINTS = {"Playlist.songs": 100, "Query.genres": 50}
# Lists whose length is the `size` argument of the field above them (myMixes' songs per mix).
SIZE_ARGUMENT = "size"
SIZE_FROM_PARENT = frozenset({"Mix.songs"})
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

# Resolver prices, measured by bench/cost_model.py against pages of songs (BENCHMARKS.md):
# a unit is ~0.1 ms of the API process's time. Work that holds the event loop (scans, the
# engine) is priced at its worst case: it stalls every other client, where a database wait
# does not.
SEARCH_SONGS_PER_UNIT = 50  # a search scans every title and artist (new terms: no cache)
DYNAMIC_ORDER_SONGS_PER_UNIT = 150  # TRENDING and LIKES re-sort the catalog after a change
RECOMMEND_PRICE = 1200  # profile, factor, graph and content scoring, re-rank, explanations
SIMILAR_PRICE = 600
RADIO_PRICE = 1200  # a station page: the engine scores around the seed, then its rules
JOURNEY_PRICE = 1100  # candidates scored for each stretch of the path
MIX_PRICE = 700  # per mix: the taste is clustered, each cluster scored by the engine
# Fields whose resolver refuses more than this many objects (BAD_USER_INPUT, not priced).
SIZE_LIMITS = {"Query.myMixes": 10}  # graphql/generated.py's MAX_MIXES
SIMILAR_ARTISTS_PRICE = 600  # per artist: its songs' graph neighbours and sound, grouped
ARTIST_SONGS_PRICE = 20  # per artist: an index query over its rows (in memory)
DB_SONG_PRICE = 3  # each playlist song: from the song store, or by id from the database
DYNAMIC_ORDERS = frozenset({"TRENDING", "LIKES"})


class QueryTooComplex(MadhurError):
    code = QUERY_TOO_COMPLEX


def resolver_price(parent: str, field: str, args: Mapping[str, Any], catalog_size: int) -> int:
    """The work a resolver does besides the objects it returns, in units."""
    key = f"{parent}.{field}"
    price = 0
    if key in ("Query.songs", "Artist.songs", "Query.trending", "Query.popular"):
        order = {"Query.trending": "TRENDING", "Query.popular": "LIKES"}.get(key, args.get("order"))
        if args.get("search"):
            price += catalog_size // SEARCH_SONGS_PER_UNIT
        if str(getattr(order, "value", order)) in DYNAMIC_ORDERS:
            price += catalog_size // DYNAMIC_ORDER_SONGS_PER_UNIT
    elif key == "Query.artists" and args.get("search"):
        price += catalog_size // SEARCH_SONGS_PER_UNIT // 4  # artists: about a fourth as many
    if key == "Artist.songs":
        price += ARTIST_SONGS_PRICE
    elif key == "Playlist.songs":
        price += LIST_SIZE_HINTS[key] * DB_SONG_PRICE
    elif key == "Query.recommendations":
        price += RECOMMEND_PRICE
    elif key == "Query.similarSongs":
        price += SIMILAR_PRICE
    elif key == "Query.radio":
        price += RADIO_PRICE
    elif key == "Query.moodJourney":
        price += JOURNEY_PRICE
    elif key == "Query.myMixes":
        count = args.get("count")
        price += MIX_PRICE * min(max(count if isinstance(count, int) else 1, 1), SIZE_LIMITS[key])
    elif key == "Artist.similarArtists":
        price += SIMILAR_ARTISTS_PRICE
    return price


class CostWalker:
    """Walks selections; fragments are costed once each (memoised), so a "fragment bomb"
    costs what it would return and the walk stays linear in the document's size."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        catalog_size: int = 0,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.catalog_size = catalog_size
        self._memo: dict[tuple[str, int | None], int] = {}
        self._size_below: int | None = None  # the enclosing field's size argument, if any

    def selection(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        stack: frozenset[str] = frozenset(),
    ) -> int:
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent, stack)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection(node.selection_set, target, stack)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in stack:
                    continue
                key = (name, self._size_below)  # a fragment's cost depends on that size
                if key not in self._memo:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    self._memo[key] = self.selection(fragment.selection_set, target, stack | {name})
                total += self._memo[key]
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, stack: frozenset[str]) -> int:
        definition = _field_definition(self.schema, parent, node.name.value)
        if definition is None or node.selection_set is None:
            return 1
        args = self._arguments(definition, node)
        parent_name = parent.name if parent else ""
        price = resolver_price(parent_name, node.name.value, args, self.catalog_size)
        sizes = [v for name in PAGE_ARGUMENTS if isinstance(v := args.get(name), int)]
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            limit = SIZE_LIMITS.get(f"{parent_name}.{node.name.value}", MAX_PAGE_SIZE)
            size = min(max([1, *sizes]), limit)
        elif f"{parent_name}.{node.name.value}" in SIZE_FROM_PARENT:
            size = min(max(self._size_below or DEFAULT_LIST_SIZE, 1), MAX_PAGE_SIZE)
        else:
            size = _unpaged_size(parent, node.name.value, definition)
        child = get_named_type(definition.type)
        outer = self._size_below
        below = args.get(SIZE_ARGUMENT)
        self._size_below = below if isinstance(below, int) else None
        try:
            return 1 + price + size * self.selection(node.selection_set, child, stack)
        finally:
            self._size_below = outer

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        if not definition.args:
            return {}
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return {}  # execution refuses the argument itself


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    catalog_size: int = 0,
) -> int:
    """The estimate: each field costs 1 plus its resolver's price plus its selection's cost
    times its page size (`first`, at most MAX_PAGE_SIZE: resolvers refuse more themselves),
    so nested pages multiply. Lists without a page argument are bounded by their parent's
    page (edges) or count as LIST_SIZE_HINTS says."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list) or root is None:
        return 0  # bad variables: execution reports them before any resolver runs
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = CostWalker(schema, fragments, coerced, catalog_size)
    return walker.selection(operation.selection_set, root)


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None


def _unpaged_size(parent: GraphQLNamedType | None, name: str, definition: GraphQLField) -> int:
    """How many objects a list without page arguments is assumed to hold.

    `edges` of a connection are bounded by the connection's `first`, so they count once;
    so do introspection lists (bounded by the schema) and non-list fields. Other object
    lists count as LIST_SIZE_HINTS says, or DEFAULT_LIST_SIZE: add a hint when adding an
    unpaginated list that can be long.
    """
    if not isinstance(get_nullable_type(definition.type), GraphQLList):
        return 1
    parent_name = parent.name if parent else ""
    if parent_name.endswith("Connection") or parent_name.startswith("__") or name.startswith("__"):
        return 1  # edges (bounded by `first`) and introspection (bounded by the schema)
    return LIST_SIZE_HINTS.get(f"{parent_name}.{name}", DEFAULT_LIST_SIZE)


@dataclass(slots=True)
class CostMeter:
    """One operation's running cost: the estimate, plus what resolvers learn as they run."""

    spent: int
    limit: int

    def charge(self, units: int) -> None:
        self.spent += max(units, 0)
        if self.spent > self.limit:
            raise QueryTooComplex(
                f"Query cost {self.spent} exceeds the maximum of {self.limit} once the data "
                "is known; ask for fewer or smaller lists.",
                cost=self.spent,
                maxCost=self.limit,
            )


def charge_list(info: Info[Any, Any], length: int, estimated: int) -> None:
    """Charge the items of a list beyond what the estimate counted (`estimated`), each at
    the cost of its selection: e.g. a playlist of 1,000 songs read with `{ id title }`."""
    meter: CostMeter | None = getattr(info.context, "cost", None)
    if meter is None or length <= estimated:
        return
    raw = info._raw_info
    walker = CostWalker(raw.schema, raw.fragments, raw.variable_values)
    field_node = raw.field_nodes[0]
    child = get_named_type(raw.return_type)
    per_item = walker.selection(field_node.selection_set, child) if field_node.selection_set else 1
    meter.charge((length - estimated) * (per_item + DB_SONG_PRICE))


class Estimates:
    """The estimates of recent operations: the same document, operation, variables and
    catalog size always cost the same, and walking a page's selection again took a few
    percent of its request's CPU. Bounded, and only small variable sets are kept (a key
    holds them)."""

    SIZE = 512
    MAX_VARIABLES_KEY = 1024  # characters of JSON

    def __init__(self) -> None:
        self._known: LRUCache[tuple[int, str | None, str, int], tuple[DocumentNode, int]] = (
            LRUCache(maxsize=self.SIZE)
        )

    def cost(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        catalog_size: int,
    ) -> int:
        try:
            values = json.dumps(variables or {}, sort_keys=True)
        except (TypeError, ValueError):
            values = None
        if values is None or len(values) > self.MAX_VARIABLES_KEY:
            return operation_cost(schema, document, operation_name, variables, catalog_size)
        key = (id(document), operation_name, values, catalog_size)
        known = self._known.get(key)
        if known is not None and known[0] is document:  # the id is the same document's
            return known[1]
        cost = operation_cost(schema, document, operation_name, variables, catalog_size)
        self._known[key] = (document, cost)
        return cost


class _Client(Protocol):
    """What the cost extension needs from the request context."""

    cost: CostMeter | None
    deadline: asyncio.Timeout | None

    def budget_keys(self) -> list[str]: ...

    def catalog_size(self) -> int: ...


class QueryCostLimiter(SchemaExtension):
    """Before any resolver runs: refuse an operation over the cost limit (QUERY_TOO_COMPLEX,
    with `cost` and `maxCost`) or over its client's budget (TOO_MANY_REQUESTS, `retryAfter`);
    arm the query deadline; afterwards, take the real cost from the client's budget."""

    def __init__(
        self,
        max_cost: int,
        budget: CostBudget | None = None,
        query_timeout: float | None = None,
        estimates: Estimates | None = None,
    ) -> None:
        self.max_cost = max_cost
        self.budget = budget
        self.query_timeout = query_timeout
        self.estimates = estimates or Estimates()

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        client: _Client | None = context.context if hasattr(context.context, "cost") else None
        meter: CostMeter | None = None
        keys: list[str] = []
        if document is not None and context.result is None:
            size = client.catalog_size() if client else 0
            cost = self.estimates.cost(
                context.schema._schema, document, context.operation_name, context.variables, size
            )
            keys = client.budget_keys() if client else []
            wait = self.budget.wait_for(keys, cost) if self.budget and keys else 0
            if cost > self.max_cost:
                context.result = _refusal(
                    f"Query cost {cost} exceeds the maximum of {self.max_cost}; "
                    "ask for smaller pages or fewer fields.",
                    code=QUERY_TOO_COMPLEX,
                    cost=cost,
                    maxCost=self.max_cost,
                )
            elif wait:
                context.result = _refusal(
                    f"This client has spent its query budget; try again in {wait} seconds.",
                    code="TOO_MANY_REQUESTS",
                    retryAfter=wait,
                )
            elif client is not None:
                meter = client.cost = CostMeter(cost, self.max_cost)
                is_query = context.operation_type is OperationType.QUERY
                if self.query_timeout and client.deadline is not None and is_query:
                    loop = asyncio.get_running_loop()
                    client.deadline.reschedule(loop.time() + self.query_timeout)
        try:
            yield
        finally:
            deadline = client.deadline if client is not None else None
            if deadline is not None and not deadline.expired():
                deadline.reschedule(None)  # what follows execution is not cut short
            if meter is not None and self.budget is not None:
                self.budget.spend(keys, meter.spent)


def _refusal(message: str, **extensions: Any) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])


def cost_extension(
    max_cost: int, budget: CostBudget | None, query_timeout: float | None
) -> Callable[[], SchemaExtension]:
    estimates = Estimates()  # shared by every request of this schema

    def make() -> SchemaExtension:
        return QueryCostLimiter(max_cost, budget, query_timeout, estimates)

    return make
