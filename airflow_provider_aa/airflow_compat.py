"""Names that moved between Airflow 3.1 and the newest release, imported from where they live."""

from __future__ import annotations

from airflow.sdk.log import mask_secret

try:
    from airflow.sdk import conf
except ImportError:  # Airflow 3.1
    from airflow.configuration import conf  # type: ignore[no-redef,assignment]

try:
    from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException
except ImportError:  # Airflow 3.1 keeps them in airflow.exceptions only
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )

__all__ = ["AirflowFailException", "AirflowSensorTimeout", "AirflowSkipException", "conf", "mask_secret"]
