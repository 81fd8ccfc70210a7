"""The PostgreSQL adapter (``pip install 'etomkit[postgres]'``): ``PostgresStore``
shares one inventory and one issuer between many processes on many hosts.

Importing this package imports psycopg; ``import etomkit`` never does.
"""

from etomkit.adapters.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
