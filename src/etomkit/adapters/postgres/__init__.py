"""The PostgreSQL adapter (``pip install 'etomkit[postgres]'``): ``PostgresStore``
shares one inventory and one issuer between many processes on many hosts, with
``PostgresUsageLog``, the outbox ``PostgresEventSink`` and ``PostgresEventFeed``.

Importing this package imports psycopg; ``import etomkit`` never does.
"""

from etomkit.adapters.postgres.feed import FeedEvent, PostgresEventFeed, PostgresEventSink
from etomkit.adapters.postgres.store import PostgresStore
from etomkit.adapters.postgres.usage_log import PostgresUsageLog

__all__ = [
    "FeedEvent",
    "PostgresEventFeed",
    "PostgresEventSink",
    "PostgresStore",
    "PostgresUsageLog",
]
