"""Subscriptions need a WebSocket: over plain HTTP they are refused with a code, not a crash."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

SUBSCRIPTION_NEEDS_WEBSOCKET = "SUBSCRIPTION_NEEDS_WEBSOCKET"


class SubscriptionsOverWebSocket(SchemaExtension):
    """A subscription POSTed like a query would reach its resolver as a plain field and fail
    as an unexpected error; it is answered before execution with what to do instead."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        try:
            operation_type = context.operation_type
        except RuntimeError:  # the document did not parse: reported as usual
            operation_type = None
        if (
            operation_type is OperationType.SUBSCRIPTION
            and not isinstance(request, WebSocket)
            and context.result is None
        ):
            error = GraphQLError(
                "Subscriptions run over a WebSocket: graphql-transport-ws on /graphql, with "
                'the token in the connection_init payload ({"Authorization": "Bearer ..."}).',
                extensions={"code": SUBSCRIPTION_NEEDS_WEBSOCKET},
            )
            context.result = ExecutionResult(data=None, errors=[error])
        yield
