"""The model card's table.

Declared apart from ``governance.tables`` so the schema arrives in its own
migration (``0003_model_card``). A card is never edited in place: saving writes a
new row with the next ``card_version``, together with its audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class ModelCardVersion(SQLModel, table=True):
    """One saved version of a model version's card.

    ``sections`` maps each documentation section's key to the text drafted from
    the evidence and the notes people wrote, as they stood when saved;
    ``assessment_id`` names the evidence the draft came from.
    """

    __tablename__ = "model_card"
    __table_args__ = (UniqueConstraint("model_version_id", "card_version"),)

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    card_version: int
    sections: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    assessment_id: int | None = Field(default=None, foreign_key="assessment.id")
    edited_by: str = Field(foreign_key="user_account.id", max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)
