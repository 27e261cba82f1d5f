"""Connect pymongo's async client and Beanie; start the embedded server when no URI is set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo, running_server_uri
from madhur_gql.documents import ALL_DOCUMENTS

log = structlog.get_logger(__name__)

SERVER_SELECTION_TIMEOUT_MS = 3000

# The application's own durability, whatever the server's defaults or the URI say: a write is
# acknowledged once it is in the journal (of a majority, on a replica set). Standalone mongod
# and SecantusDB default to w:1, j:false, where a crash loses the last acknowledged writes.
WRITE_CONCERN = WriteConcern(w="majority", j=True)


@dataclass
class Database:
    client: AsyncMongoClient
    db: AsyncDatabase
    embedded: EmbeddedMongo | None
    uri: str  # for other processes that read the same database (the recommender build)

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
        except Exception:
            return False
        return True


def make_client(uri: str, listeners: Sequence[monitoring.CommandListener] = ()) -> AsyncMongoClient:
    # Short timeouts: when the database is gone, requests fail fast with a clear error
    # instead of hanging for pymongo's 30 s default. Keyword options override the URI's.
    return AsyncMongoClient(
        uri,
        w=WRITE_CONCERN.document["w"],
        journal=True,
        serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
        connectTimeoutMS=2000,
        tz_aware=True,
        uuidRepresentation="standard",
        event_listeners=list(listeners),
    )


async def init_database(
    uri: str, name: str, listeners: Sequence[monitoring.CommandListener] = ()
) -> tuple[AsyncMongoClient, AsyncDatabase]:
    client = make_client(uri, listeners)
    database = client.get_database(name, write_concern=WRITE_CONCERN)
    await init_beanie(database=database, document_models=list(ALL_DOCUMENTS))
    return client, database


@asynccontextmanager
async def open_database(
    settings: Settings, listeners: Sequence[monitoring.CommandListener] = ()
) -> AsyncIterator[Database]:
    """The database named by MONGODB_URI, or the embedded one in MADHUR_DATA_DIR."""
    embedded: EmbeddedMongo | None = None
    uri = settings.mongodb_uri
    if uri is None:
        storage = settings.data_dir.resolve()
        uri = running_server_uri(storage)
        if uri is None:
            embedded = EmbeddedMongo(storage, sync_on_commit=settings.db_sync_on_commit)
            uri = embedded.start()
        else:
            log.info("using the embedded database another process started", uri=uri)
    try:
        client, database = await init_database(uri, settings.database_name, listeners)
        try:
            yield Database(client=client, db=database, embedded=embedded, uri=uri)
        finally:
            await client.close()
    finally:
        if embedded is not None:
            embedded.stop()
