"""Plain attribute fields completed without graphql-core's per-field machinery.

Most fields of a read (a song's `id`, `title`, `artist`, a recommendation's `score`,
`reasons`, `song`, a page's `edges` and their `node`) are Strawberry fields with no resolver:
the value is an attribute of the object. graphql-core still runs each one through the full
path (resolve info, Strawberry's resolver wrapper, a `complete_value` per type wrapper), which
was most of the CPU a page of twenty costs. For such fields this executor reads the attribute
and serializes a scalar or enum in place, or goes straight to an object's (or a list of
objects') sub-selection. Anything else (resolvers, arguments, directives other than
@include/@skip, abstract types, `is_type_of` checks, permission classes or field extensions,
middleware from a `resolve` extension hook, `@defer`/`@stream`) takes the normal path.

Errors and nulls behave exactly as before. A leaf whose value is not plainly valid (null in a
non-null field, an exception value, a list that is not a list, a serializer that fails or
gives null) is executed again by the normal path, which raises and locates the error as it
always did: reading an attribute and serializing it has no side effect. An object (or a list
of objects) that is not plainly valid takes the normal path before anything below it ran;
errors from below are handled by graphql-core's own `handle_field_error`, at the same paths.

A resolver may declare `plain_when_set(attribute)`: when the source's attribute is not None
that value is the answer (as the resolver would have returned it), read like a plain field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, TypeVar
from weakref import WeakKeyDictionary, ref

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.collect_fields import FieldDetails, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

CONDITIONS = frozenset({"include", "skip"})  # already applied when fields are collected
# The resolvers Strawberry gives a field: without resolver, extensions or exception handlers
# (basic), and with a resolver but no exception handlers.
BASIC_RESOLVER = "_get_basic_result"
PLAIN_RESOLVERS = frozenset({"_resolver", "_async_resolver"})
PLAIN_WHEN_SET = "__madhur_plain_when_set__"

F = TypeVar("F", bound=Callable[..., Any])


def plain_when_set(attribute: str) -> Callable[[F], F]:
    """Mark a resolver that returns `self.<attribute>` unchanged whenever it is not None."""

    def mark(resolver: F) -> F:
        setattr(resolver, PLAIN_WHEN_SET, attribute)
        return resolver

    return mark


class _Unplain(Exception):
    """The value needs the normal path (which reports whatever is wrong with it)."""


class Shape(NamedTuple):
    """How to read one plain field: an attribute, then its type's completion."""

    attribute: str
    return_type: GraphQLOutputType
    non_null: bool
    is_list: bool
    item_type: GraphQLOutputType  # the list's item type (with its non-null), else the type
    item_non_null: bool
    named: Any  # the leaf or object type under the wrappers
    coerce: Callable[[Any], Any] | None  # a leaf's serializer; None for an object
    only_when_set: bool  # a resolver's attribute: None takes the normal path


def _attribute(field: GraphQLField) -> tuple[str, bool] | None:
    """The attribute behind a field that reads one, and whether None needs the resolver."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or field.args or definition.extensions:
        return None
    resolver_name = getattr(field.resolve, "__name__", None)
    if definition.base_resolver is None:
        if definition.default_resolver is not getattr or resolver_name != BASIC_RESOLVER:
            return None  # wrapped (exception handlers) or not built by Strawberry
        return definition.python_name, False
    attribute = getattr(definition.base_resolver.wrapped_func, PLAIN_WHEN_SET, None)
    if attribute is None or resolver_name not in PLAIN_RESOLVERS:
        return None
    return str(attribute), True


def plain_shape(field: GraphQLField) -> Shape | None:
    """The field as a plain attribute read (a leaf, an object or a list of either), or None."""
    found = _attribute(field)
    if found is None:
        return None
    attribute, only_when_set = found
    kind: GraphQLOutputType = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    is_list = isinstance(kind, GraphQLList)
    item_type = kind
    if isinstance(kind, GraphQLList):
        item_type = kind = kind.of_type
    item_non_null = is_list and isinstance(kind, GraphQLNonNull)
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if is_leaf_type(kind):
        coerce = kind.coerce_output_value
    elif isinstance(kind, GraphQLObjectType) and kind.is_type_of is None and not only_when_set:
        coerce = None
    else:
        return None  # nested lists, abstract types, objects checked by is_type_of
    return Shape(
        attribute,
        field.type,
        non_null,
        is_list,
        item_type,
        item_non_null,
        kind,
        coerce,
        only_when_set,
    )


def _coerce(coerce: Callable[[Any], Any], value: Any) -> Any:
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise _Unplain
    return coerced


PLAIN_TYPES = frozenset({str, int, float, bool, list, tuple})  # never an error or awaitable


def _unusual(value: Any, is_awaitable: Callable[[Any], bool]) -> bool:
    """A value the normal path treats specially: an error to raise, something to await."""
    if type(value) in PLAIN_TYPES:
        return False
    return isinstance(value, Exception) or is_awaitable(value)


def _value(shape: Shape, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The attribute's value when the plain path can complete it; _Unplain otherwise."""
    value = getattr(source, shape.attribute)
    if value is None or value is Undefined:
        if shape.non_null or shape.only_when_set:
            raise _Unplain
        return None
    if _unusual(value, is_awaitable):
        raise _Unplain
    if shape.is_list:
        if type(value) is not list and type(value) is not tuple:
            raise _Unplain  # other iterables (and async ones) keep the normal path
        if shape.coerce is None and any(
            item is None or item is Undefined or _unusual(item, is_awaitable) for item in value
        ):
            raise _Unplain
    return value


def read_leaf(shape: Shape, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """A scalar's or enum's completed value, as the normal path completes a valid one."""
    value = _value(shape, source, is_awaitable)
    coerce = shape.coerce
    assert coerce is not None
    if value is None:
        return None
    if not shape.is_list:
        return _coerce(coerce, value)
    items: list[Any] = []
    for item in value:
        if item is None or item is Undefined:
            if shape.item_non_null:
                raise _Unplain
            items.append(None)
        elif _unusual(item, is_awaitable):
            raise _Unplain
        else:
            items.append(_coerce(coerce, item))
    return items


def list_shape(list_type: GraphQLList[Any]) -> Shape | None:
    """A list of plain objects (not abstract, no is_type_of) as a Shape, else None."""
    item_type = list_type.of_type
    item_non_null = isinstance(item_type, GraphQLNonNull)
    named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
    if not isinstance(named, GraphQLObjectType) or named.is_type_of is not None:
        return None
    return Shape("", list_type, False, True, item_type, item_non_null, named, None, False)


def _conditions_only(details: list[FieldDetails]) -> bool:
    """No directive but @include/@skip (so no @stream) on any of the field's nodes."""
    return all(all(x.name.value in CONDITIONS for x in d.node.directives or ()) for d in details)


_Plan = list[tuple[str, list[FieldDetails], Shape | None]]
# Each schema's fields, by id (a GraphQLField is not hashable); gone with the schema.
_shapes: WeakKeyDictionary[GraphQLSchema, dict[int, tuple[GraphQLField, Shape | None]]] = (
    WeakKeyDictionary()
)


def _field_shape(schema: GraphQLSchema, field: GraphQLField) -> Shape | None:
    fields = _shapes.get(schema)
    if fields is None:
        fields = _shapes[schema] = {}
    known = fields.get(id(field))
    if known is None or known[0] is not field:
        known = fields[id(field)] = (field, plain_shape(field))
    return known[1]


def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    """graphql-core's `gather_async_work`, which never used its executor."""
    return gather_with_cancel(*values)


class _Track:
    """graphql-core's `track_async_work` without a strong reference to the executor.

    The executor's own helpers are bound methods of it, held in its `__dict__`: a reference
    cycle that made every request's executor, and the context, request and response it
    reaches, garbage only the cycle collector could free (~100 objects a request, most of
    the collector's work under load). Once an operation's result is complete the executor
    holds these instead. Should it be gone when something tracks work through a resolve
    info that outlived it, the awaitables are still settled and their errors observed.
    """

    __slots__ = ("_executor",)

    def __init__(self, executor: StrawberryGraphQLCoreExecutionContext) -> None:
        self._executor = ref(executor)

    def __call__(self, values: Sequence[Any]) -> None:
        executor = self._executor()
        if executor is not None:
            executor.track_async_work(values)
            return
        for value in values:
            if asyncio.isfuture(value) or asyncio.iscoroutine(value):
                task = asyncio.ensure_future(value)
                _LEFT_RUNNING.add(task)  # the loop holds tasks weakly: kept until they end
                task.add_done_callback(_observe)


_LEFT_RUNNING: set[asyncio.Future[Any]] = set()


def _observe(future: asyncio.Future[Any]) -> None:
    _LEFT_RUNNING.discard(future)
    if not future.cancelled():
        future.exception()


class FastFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # by grouped field set (one per selection and type in an operation); kept alive
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan | None]] = {}
        self._lists: dict[int, tuple[GraphQLList[Any], Shape | None]] = {}
        manager = self.middleware_manager
        self._fast = manager is None or not manager.middlewares

    def execute_operation(self, serially: bool | None = None) -> Any:
        """graphql-core's, then the executor's helpers without the cycle (see _Track)."""
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._detached_after(result)
        self._detach(result)
        return result

    async def _detached_after(self, result: Awaitable[Any]) -> Any:
        completed = await result
        self._detach(completed)
        return completed

    def _detach(self, result: Any) -> None:
        if isinstance(result, ExecutionResult):  # complete: nothing incremental still runs
            self.async_helpers = GraphQLResolveInfoHelpers(gather=_gather, track=_Track(self))

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> _Plan | None:
        known = self._plans.get(id(fields))
        if known is not None and known[0] is fields:
            return known[1]
        plan: _Plan = []
        for response_name, details in fields.items():
            shape = None
            field = parent_type.fields.get(details[0].node.name.value)
            if field is not None and all(
                not d.node.arguments
                and d.defer_usage is None
                and all(x.name.value in CONDITIONS for x in d.node.directives or ())
                for d in details
            ):
                shape = _field_shape(self.schema, field)
            plan.append((response_name, details, shape))
        chosen = plan if any(shape for _, _, shape in plan) else None
        self._plans[id(fields)] = (fields, chosen)
        return chosen

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = None
        if self._fast and position_context is None:
            plan = self._plan(parent_type, grouped_field_set)
        if plan is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, details, shape in plan:
                result: Any = Undefined
                if shape is not None:
                    result = self._plain(
                        shape, parent_type, source_value, details, path, response_name
                    )
                if result is Undefined:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        details,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather_fields(results, awaitable_fields)

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: list[FieldDetails],
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A resolver's list of plain objects (recommendations' items) straight to their
        sub-selections, as the plain path completes one; anything else as graphql-core does."""
        if self._fast and position_context is None and type(result) in (list, tuple):
            known = self._lists.get(id(return_type))
            if known is None or known[0] is not return_type:
                known = self._lists[id(return_type)] = (return_type, list_shape(return_type))
            shape = known[1]
            is_awaitable = self.is_awaitable
            if (
                shape is not None
                and _conditions_only(field_details_list)
                and not any(
                    item is None or item is Undefined or _unusual(item, is_awaitable)
                    for item in result
                )
            ):
                return self._complete_objects(shape, field_details_list, path, result)
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain(
        self,
        shape: Shape,
        parent_type: GraphQLObjectType,
        source: Any,
        details: list[FieldDetails],
        path: Path | None,
        response_name: str,
    ) -> Any:
        """The field completed on the plain path, or Undefined for the normal path."""
        try:
            if shape.coerce is not None:
                return read_leaf(shape, source, self.is_awaitable)
            value = _value(shape, source, self.is_awaitable)
        except Exception:
            return Undefined
        if value is None:
            return None
        field_path = Path(path, response_name, parent_type.name)
        completed: AwaitableOrValue[Any]
        try:
            if shape.is_list:
                completed = self._complete_objects(shape, details, field_path, value)
            else:
                completed = self.collect_and_execute_subfields(
                    shape.named, details, field_path, value, None
                )
        except Exception as raw_error:  # as execute_field handles its completion's errors
            self.handle_field_error(raw_error, shape.return_type, details, field_path)
            return None
        if self.is_awaitable(completed):
            return self._await_field(completed, shape.return_type, details, field_path)
        return completed

    def _complete_objects(
        self, shape: Shape, details: list[FieldDetails], path: Path, items: list[Any]
    ) -> AwaitableOrValue[list[Any]]:
        """A list of objects, as complete_iterable_value completes one (no @stream)."""
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                try:
                    value = self.collect_and_execute_subfields(
                        shape.named, details, item_path, item, None
                    )
                except Exception as raw_error:  # as complete_list_item_value
                    self.handle_field_error(raw_error, shape.item_type, details, item_path)
                    value = None
                if self.is_awaitable(value):
                    value = self._await_field(value, shape.item_type, details, item_path)
                    awaitable_indices.append(index)
                completed.append(value)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[i] for i in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed
        return self._gather_items(completed, awaitable_indices)

    async def _await_field(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: list[FieldDetails],
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    @staticmethod
    async def _gather_items(completed: list[Any], indices: list[int]) -> list[Any]:
        if len(indices) == 1:
            completed[indices[0]] = await completed[indices[0]]
            return completed
        awaited = await gather_with_cancel(*(completed[i] for i in indices))
        for index, value in zip(indices, awaited, strict=True):
            completed[index] = value
        return completed

    @staticmethod
    async def _gather_fields(
        results: dict[str, Any], awaitable_fields: list[str]
    ) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
            return results
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results
