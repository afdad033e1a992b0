import pytest
import yaml
from sqlmodel import select

from governance.bootstrap import install_policy, installed_policy
from governance.errors import ConflictError, PolicyError
from governance.policy import DEFAULT_POLICY_PATH, load_policy, parse_policy
from governance.store import read_session
from governance.tables import AuditEvent

SHIPPED = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


def _with(change):
    raw = yaml.safe_load(SHIPPED)
    change(raw)
    return yaml.safe_dump(raw)


def test_shipped_policy_carries_the_framework_numbers():
    policy = load_policy()

    assert policy.data_standards.min_quality_score == 0.95
    assert policy.data_standards.min_training_rows == 10_000
    assert policy.performance.min_auc == 0.75
    assert policy.performance.min_precision == 0.70
    assert policy.performance.min_recall == 0.70
    assert policy.fairness.max_demographic_parity_difference == 0.10
    assert policy.drift.psi_retrain == 0.25
    assert policy.deployment.canary_percentages == [10, 50, 100]
    assert policy.monitoring.performance_drop_fraction == 0.10
    assert policy.training.new_member_days == 30
    assert policy.retention.audit_logs_years == 7
    assert policy.risk.approvers["high"] == [
        "model_owner",
        "compliance_officer",
        "security_officer",
    ]


@pytest.mark.parametrize(
    ("score", "level"),
    [(0.0, "low"), (0.399, "low"), (0.4, "medium"), (0.7, "medium"), (0.7001, "high")],
)
def test_risk_level_bands_follow_the_framework(score, level):
    assert load_policy().risk.level(score) == level


def _delete(section, key):
    return lambda raw: raw[section].pop(key)


def _set(section, key, value):
    return lambda raw: raw[section].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (_delete("performance", "min_auc"), "performance.min_auc"),
        (_set("performance", "min_auc", "high"), "performance.min_auc"),
        (_set("performance", "min_recall", 1.5), "performance.min_recall"),
        (
            _set("data_standards", "min_training_rows", -5),
            "data_standards.min_training_rows",
        ),
        (_set("drift", "psi_warn", 0.3), "drift"),
        (_set("deployment", "canary_percentages", [50, 10, 100]), "deployment"),
        (_set("reviews", "drift", "fortnightly"), "reviews.drift"),
        (_set("fairness", "max_dpd", 0.1), "fairness.max_dpd"),
        (lambda raw: raw.pop("retention"), "retention"),
        (
            lambda raw: raw["risk"]["factor_weights"].__setitem__("bias", 0.9),
            "risk.factor_weights",
        ),
        (
            lambda raw: raw["risk"]["bands"]["medium"].__setitem__("to", 0.8),
            "risk.bands",
        ),
        (lambda raw: raw["risk"]["approvers"].pop("high"), "risk.approvers"),
        (
            lambda raw: raw["risk"]["approvers"].__setitem__("low", ["chief"]),
            "risk.approvers.low.0",
        ),
    ],
    ids=[
        "missing-key",
        "wrong-type",
        "out-of-range",
        "negative-count",
        "warn-above-retrain",
        "canary-not-increasing",
        "unknown-cadence",
        "unknown-key",
        "missing-section",
        "weights-not-summing",
        "bands-not-meeting",
        "approvers-missing-level",
        "unknown-role",
    ],
)
def test_malformed_policy_names_the_key(change, key):
    with pytest.raises(PolicyError) as caught:
        parse_policy(_with(change), source="policy.yaml")

    message = str(caught.value)
    assert f"policy.yaml: {key}" in message
    assert "Fix these keys" in message


def test_policy_that_is_not_yaml_says_so():
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("version: [1.0", source="policy.yaml")


def test_missing_policy_file_says_what_to_do(tmp_path):
    with pytest.raises(
        PolicyError, match="Cannot read the policy file .*GOVERNANCE_POLICY"
    ):
        load_policy(tmp_path / "absent.yaml")


def test_content_hash_ignores_comments_and_changes_with_a_number():
    shipped = parse_policy(SHIPPED)
    commented = parse_policy("# another comment\n" + SHIPPED)
    stricter = parse_policy(_with(_set("performance", "min_auc", 0.8)))

    assert commented.content_hash == shipped.content_hash
    assert stricter.content_hash != shipped.content_hash
    assert len(shipped.content_hash) == 64


def test_installing_a_changed_policy_is_an_audited_event(engine):
    changed_text = _with(
        lambda raw: (
            raw.update(version="9.1.0"),
            raw["performance"].update(min_auc=0.8),
        )
    )
    changed = parse_policy(changed_text)

    assert install_policy(engine, changed, content=changed_text) is True
    assert install_policy(engine, changed, content=changed_text) is False

    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "policy.installed")
        ).all()
    assert [event.entity_id for event in events] == [load_policy().version, "9.1.0"]
    assert installed_policy(engine).content_hash == changed.content_hash


def test_changed_content_under_the_same_version_is_refused(engine):
    same_version = parse_policy(_with(_set("performance", "min_auc", 0.8)))

    with pytest.raises(
        ConflictError, match=f"version is still {load_policy().version}"
    ):
        install_policy(engine, same_version, content="")
    assert installed_policy(engine).content_hash == load_policy().content_hash
