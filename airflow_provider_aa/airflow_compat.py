"""Names that moved between Airflow 3.1 and the newest release, imported from where they live."""

from __future__ import annotations

from airflow.sdk.log import mask_secret

try:
    from airflow.sdk.log import amask_secret
except ImportError:  # Airflow 3.1/3.2: what 3.3's amask_secret does

    async def amask_secret(secret: str, name: str | None = None) -> None:  # type: ignore[misc]
        """Mask in this process and tell the supervisor without blocking the event loop."""
        from contextlib import suppress

        from airflow.sdk._shared.secrets_masker import _secrets_masker

        _secrets_masker().add_mask(secret, name)
        with suppress(Exception):  # no supervisor: outside a task or triggerer
            from airflow.sdk.execution_time import task_runner
            from airflow.sdk.execution_time.comms import MaskSecret

            if comms := getattr(task_runner, "SUPERVISOR_COMMS", None):
                await comms.asend(MaskSecret(value=secret, name=name))


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

__all__ = [
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "amask_secret",
    "conf",
    "mask_secret",
]
