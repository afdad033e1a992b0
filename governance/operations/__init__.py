"""Operations after deployment: monitoring, triggers, alerts, incidents, reviews."""
