"""The console's error hierarchy.

Every message says what was wrong and what to do about it. Entry points (the CLI,
the pages) catch `GovernanceError` at the edge and show its message; nothing below
them prints or exits.
"""


class GovernanceError(Exception):
    """Base of every error the console raises on purpose."""


class NotFoundError(GovernanceError):
    """A model, version, user or record that was asked for does not exist."""


class InvalidInputError(GovernanceError):
    """Input (a file, a flag, a form field) is malformed or out of range."""


class PolicyError(InvalidInputError):
    """The policy file is missing a key or holds a value of the wrong form."""


class PermissionDeniedError(GovernanceError):
    """The acting identity lacks the role an action requires."""


class ConflictError(GovernanceError):
    """The record changed since it was read, or the action was already taken."""


class WorkflowBlockedError(GovernanceError):
    """An action's conditions are not met yet (a stage step, an order, a gate)."""


class StaleApprovalError(ConflictError):
    """An approval no longer matches the evidence or version it was given for."""


class StoreUnavailableError(GovernanceError):
    """The database or the model registry cannot be reached or written."""
