"""Signed checkpoints of the audit chain's head, kept outside the database.

The hash chain shows that no event was altered, removed or reordered relative
to the events around it, but someone who can write the database could rewrite
the whole tail with recomputed hashes, or cut it off, and the chain would still
verify. A checkpoint records the head (sequence number, hash, time) in a file
of its own, signed with HMAC-SHA256 under a key the database does not hold;
`verify_audit_trail` then requires that every checkpoint is validly signed and
that the stored event at its sequence number still has its hash, so a rewritten
tail breaks at the first checkpoint it covers and a cut-off tail falls short
of the newest checkpoint.

``python -m governance audit checkpoint`` writes one; run it from cron. The key
comes from ``GOVERNANCE_AUDIT_KEY`` or, failing that, from a key file created
once (mode 0600) in the checkpoint folder, which is fine for a laptop and wrong
for production: keep the key in a secret store so the person who can rewrite
the database and the checkpoint folder cannot also sign new checkpoints.

Checkpoints at or before a retention purge's cut refer to events that no
longer exist; their signature is still checked.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from governance.audit import (
    ChainVerification,
    chain_head,
    format_time,
    has_valid_signature,
    sign_document,
    verify_chain,
    verify_lines,
)
from governance.errors import ConflictError, InvalidInputError, StoreUnavailableError
from governance.settings import Settings
from governance.store import read_session
from governance.tables import AuditEvent, wall_clock

logger = logging.getLogger(__name__)

KEY_FILE = "audit.key"
# RFC 2104 asks for an HMAC key no shorter than the hash output; the key file
# holds 32 random bytes, and a shorter one is a damaged file.
MIN_KEY_BYTES = 32
_PREFIX, _SUFFIX = "checkpoint-", ".json"


@dataclass(frozen=True)
class Checkpoint:
    """The chain head at one moment, signed; ``path`` is the file it was read from."""

    seq: int
    hash: str
    created_at: str
    signature: str
    path: Path | None = None

    def document(self) -> dict[str, Any]:
        """The signed fields."""
        return {"seq": self.seq, "hash": self.hash, "created_at": self.created_at}

    def is_signed_by(self, key: bytes) -> bool:
        """Whether the signature is valid under ``key``."""
        return has_valid_signature(key, self.document(), self.signature)


def audit_key(settings: Settings, *, create: bool = False) -> bytes | None:
    """The key that signs checkpoints and exports.

    ``GOVERNANCE_AUDIT_KEY`` when set; otherwise the key file in the checkpoint
    folder, created (32 random bytes, mode 0600) when ``create`` is true. None
    when there is neither and ``create`` is false.
    """
    if settings.audit_key:
        return settings.audit_key.encode("utf-8")
    path = settings.audit_checkpoint_dir / KEY_FILE
    if not path.exists():
        if not create:
            return None
        _create_key_file(path)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        key, problem = b"", str(exc)
    else:
        problem = f"it holds {len(key)} bytes of key, fewer than {MIN_KEY_BYTES}"
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInputError(
            f"Cannot read the audit key file {path} ({problem}). Restore it from "
            "your backup, or set GOVERNANCE_AUDIT_KEY to the key."
        )
    return key


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` unless another process got there first.

    The key is written to a private temporary file and linked into place, so a
    reader sees either no key file or a whole one.
    """
    _ensure_folder(path.parent)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(partial, path)
    except FileExistsError:
        return  # another process created it first; use that one
    finally:
        partial.unlink()
    logger.warning(
        "Created the audit key file %s; in production set GOVERNANCE_AUDIT_KEY "
        "from a secret store instead",
        path,
    )


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot create the audit checkpoint folder {folder}: {exc.strerror}. "
            "Set GOVERNANCE_AUDIT_CHECKPOINTS to a folder you can write."
        ) from exc


def write_checkpoint(settings: Settings, engine: Engine) -> Checkpoint:
    """Sign the chain's current head and write it to the checkpoint folder.

    Raises
    ------
    InvalidInputError
        When the audit trail is empty.
    ConflictError
        When a checkpoint of the same sequence number records another hash:
        the log was rewritten; it is kept as evidence, not overwritten.
    """
    seq, head_hash = chain_head(engine)
    if seq == 0:
        raise InvalidInputError("The audit trail is empty; there is no head to sign.")
    key = audit_key(settings, create=True)
    assert key is not None  # created above when missing
    folder = settings.audit_checkpoint_dir
    path = folder / f"{_PREFIX}{seq:012d}{_SUFFIX}"
    if path.exists():
        existing = _read_checkpoint(path)
        if existing.hash == head_hash and existing.is_signed_by(key):
            return existing
        if existing.hash == head_hash:
            raise ConflictError(
                f"The checkpoint {path.name} is not signed with the current audit key. "
                "Restore the key it was signed with (GOVERNANCE_AUDIT_KEY or the key "
                "file), or move the old checkpoints aside if the key was replaced."
            )
        raise ConflictError(
            f"The checkpoint {path.name} records another hash for event #{seq} than "
            "the database holds: the log was changed. Run `python -m governance "
            "audit verify` and investigate before writing new checkpoints."
        )
    checkpoint = Checkpoint(seq, head_hash, format_time(wall_clock()), signature="")
    signature = sign_document(key, checkpoint.document())
    checkpoint = dataclasses.replace(checkpoint, signature=signature, path=path)
    _write_atomically(path, {**checkpoint.document(), "signature": signature})
    logger.info("Audit checkpoint #%s %s written to %s", seq, head_hash[:16], path)
    return checkpoint


def _write_atomically(path: Path, content: dict[str, Any]) -> None:
    _ensure_folder(path.parent)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(content, handle, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def read_checkpoints(folder: Path) -> list[Checkpoint]:
    """Every checkpoint file in ``folder``, by sequence number.

    A file that cannot be read is returned with an empty signature, so that
    verification reports it rather than skipping it.
    """
    if not folder.is_dir():
        return []
    found = [_read_checkpoint(path) for path in folder.glob(f"{_PREFIX}*{_SUFFIX}")]
    return sorted(found, key=lambda checkpoint: checkpoint.seq)


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        return Checkpoint(
            seq=int(content["seq"]),
            hash=str(content["hash"]),
            created_at=str(content["created_at"]),
            signature=str(content["signature"]),
            path=path,
        )
    except (OSError, ValueError, KeyError, TypeError):
        digits = path.name.removeprefix(_PREFIX).removesuffix(_SUFFIX)
        seq = int(digits) if digits.isdigit() else 0
        return Checkpoint(seq=seq, hash="", created_at="", signature="", path=path)


@dataclass(frozen=True)
class _Problem:
    seq: int
    reason: str


def _checkpoint_problems(
    checkpoints: Iterable[Checkpoint],
    key: bytes | None,
    hashes: dict[int, str],
    *,
    after_seq: int,
    head_seq: int,
    is_complete: bool,
) -> tuple[list[_Problem], int]:
    """Problems found by the checkpoints, and how many were checked.

    ``hashes`` maps sequence numbers to the hashes held (the store's or the
    file's); ``is_complete`` says whether every event from ``after_seq`` to
    ``head_seq`` is among them (false for a filtered export).
    """
    problems, checked, last_good = [], 0, None
    for checkpoint in checkpoints:
        name = checkpoint.path.name if checkpoint.path else f"#{checkpoint.seq}"
        if key is None:
            problems.append(
                _Problem(
                    checkpoint.seq,
                    f"checkpoint {name} cannot be checked: no audit key (set "
                    "GOVERNANCE_AUDIT_KEY, or restore the key file)",
                )
            )
        elif not checkpoint.is_signed_by(key):
            problems.append(
                _Problem(
                    checkpoint.seq,
                    f"checkpoint {name} does not carry a valid signature (forged, "
                    "altered or signed with another key)",
                )
            )
        elif checkpoint.seq <= after_seq:
            checked += 1  # before the retention cut: its events are gone
        elif checkpoint.seq > head_seq:
            if is_complete:
                problems.append(
                    _Problem(
                        head_seq + 1,
                        f"the log ends at #{head_seq} but checkpoint {name} of "
                        f"{checkpoint.created_at} recorded #{checkpoint.seq}: its "
                        "tail was removed",
                    )
                )
        elif checkpoint.seq in hashes or is_complete:
            if hashes.get(checkpoint.seq) != checkpoint.hash:
                since = f" (after #{last_good}, which matches)" if last_good else ""
                problems.append(
                    _Problem(
                        checkpoint.seq,
                        f"event #{checkpoint.seq} does not have the hash signed in "
                        f"checkpoint {name} of {checkpoint.created_at}: the log was "
                        f"rewritten at or before #{checkpoint.seq}{since}",
                    )
                )
            else:
                checked, last_good = checked + 1, checkpoint.seq
    return problems, checked


def _combine(
    result: ChainVerification, problems: list[_Problem], checked: int
) -> ChainVerification:
    first = min(problems, key=lambda problem: problem.seq, default=None)
    if result.is_intact and first is None:
        return dataclasses.replace(result, checkpoints_checked=checked)
    if first is None or (
        result.first_bad_seq is not None and result.first_bad_seq <= first.seq
    ):
        return dataclasses.replace(result, checkpoints_checked=checked)
    return dataclasses.replace(
        result,
        is_intact=False,
        first_bad_seq=first.seq,
        reason=first.reason,
        checkpoints_checked=checked,
    )


def verify_audit_trail(settings: Settings, engine: Engine) -> ChainVerification:
    """Verify the stored chain and every signed checkpoint against it."""
    result = verify_chain(engine)
    checkpoints = read_checkpoints(settings.audit_checkpoint_dir)
    key = audit_key(settings)
    head_seq = result.head_seq if result.is_intact else chain_head(engine)[0]
    hashes = _stored_hashes(engine, [c.seq for c in checkpoints if c.seq <= head_seq])
    problems, checked = _checkpoint_problems(
        checkpoints,
        key,
        hashes,
        after_seq=result.starts_after,
        head_seq=head_seq,
        is_complete=True,
    )
    combined = _combine(result, problems, checked)
    if not combined.is_intact and result.is_intact:
        logger.warning("%s", combined.describe())
    return combined


def _stored_hashes(engine: Engine, seqs: list[int]) -> dict[int, str]:
    hashes: dict[int, str] = {}
    with read_session(engine) as session:
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            rows = session.exec(
                select(AuditEvent.seq, AuditEvent.hash).where(
                    col(AuditEvent.seq).in_(chunk)
                )
            ).all()
            hashes.update(dict(rows))
    return hashes


def verify_export(
    lines: Iterable[str],
    *,
    key: bytes | None,
    checkpoints: Iterable[Checkpoint] = (),
) -> ChainVerification:
    """Verify an exported JSONL file, its seal and the checkpoints it covers.

    Checkpoints within the file's range must match its events (for a filtered
    export, those whose event it holds); checkpoints past the file's last event
    are newer than the export and say nothing about it.
    """
    wanted = {checkpoint.seq for checkpoint in checkpoints}
    held: dict[int, str] = {}

    def observe(event: dict[str, Any]) -> None:
        if event.get("seq") in wanted:
            held[event["seq"]] = event.get("hash", "")

    result = verify_lines(lines, key=key, observe=observe if wanted else None)
    in_range = [c for c in checkpoints if c.seq <= result.head_seq]
    problems, checked = _checkpoint_problems(
        in_range,
        key,
        held,
        after_seq=result.starts_after,
        head_seq=result.head_seq,
        is_complete=not result.is_filtered and result.is_intact,
    )
    return _combine(result, problems, checked)
