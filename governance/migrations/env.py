"""Alembic environment: runs migrations on the connection the console passes in."""

from alembic import context
from sqlmodel import SQLModel

import governance.alert_tables  # noqa: F401  (alerts, migration 0011)
import governance.audit_records_tables  # noqa: F401  (checkpoints, holds, 0008)
import governance.audit_subject_tables  # noqa: F401  (events' models, 0012)
import governance.identity_tables  # noqa: F401  (sign-in credentials, migration 0004)
import governance.incident_tables  # noqa: F401  (incidents, calendar, migration 0006)
import governance.model_card_tables  # noqa: F401  (the model card, migration 0003)
import governance.operations_tables  # noqa: F401  (monitoring, alerts, migration 0005)
import governance.records_tables  # noqa: F401  (reports, training, migration 0009)
import governance.serving_tables  # noqa: F401  (shadow and canary, migration 0007)
import governance.tables  # noqa: F401  (registers the tables on the metadata)
import governance.training_tables  # noqa: F401  (training records, migration 0010)
import governance.workflow_tables  # noqa: F401  (the workflow's tables, migration 0002)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
