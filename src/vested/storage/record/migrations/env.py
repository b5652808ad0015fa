"""Alembic's environment for the store: migrations run on the connection ``open_store`` passes in.

``open_store`` applies them on open (inside one locked transaction), so this file never connects
by itself; ``alembic`` on the command line is not needed to use a store.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
