"""Apache Airflow provider for the Automation Anywhere Control Room."""

# The package's only version: pyproject.toml reads it (setuptools parses this file without
# importing it, so keep this module free of imports) and get_provider_info() reports it.
__version__ = "0.1.0"
