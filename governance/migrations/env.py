"""Alembic environment: runs migrations on the connection the console passes in."""

from alembic import context
from sqlmodel import SQLModel

import governance.identity_tables  # noqa: F401  (sign-in credentials, migration 0004)
import governance.model_card_tables  # noqa: F401  (the model card, migration 0003)
import governance.tables  # noqa: F401  (registers the tables on the metadata)
import governance.workflow_tables  # noqa: F401  (the workflow's tables, migration 0002)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
