"""
The running Airflow's version, as Apache's providers keep it (``version_compat.py``), for
the few places that differ between the supported versions (3.1 to 3.3). Names that moved
between versions are imported from ``airflow.providers.common.compat.sdk``.
"""

from __future__ import annotations


def get_base_airflow_version_tuple() -> tuple[int, int, int]:
    from airflow import __version__
    from packaging.version import Version

    airflow_version = Version(__version__)
    return airflow_version.major, airflow_version.minor, airflow_version.micro


AIRFLOW_V_3_3_PLUS: bool = get_base_airflow_version_tuple() >= (3, 3, 0)

__all__ = ["AIRFLOW_V_3_3_PLUS"]
