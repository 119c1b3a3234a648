"""Apache Airflow provider for the Automation Anywhere Control Room."""

__version__ = "0.1.0"
