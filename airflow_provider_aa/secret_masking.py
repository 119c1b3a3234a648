"""Registering values with Airflow's secret masker, wherever this Airflow version keeps it."""

from __future__ import annotations

try:
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 3.1
    from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]

__all__ = ["mask_secret"]
