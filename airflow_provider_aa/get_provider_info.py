"""Provider metadata read by Airflow (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_aa import __version__

_INTEGRATION = "Automation Anywhere"
_PACKAGE = "airflow_provider_aa"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-automation-anywhere",
        "name": "Automation Anywhere",
        "description": "Add work items to Automation Anywhere Control Room work queues, deploy bots, and wait for them to finish.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://docs.automationanywhere.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.hooks.automation_anywhere"]}],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [f"{_PACKAGE}.operators.automation_anywhere", f"{_PACKAGE}.operators.export"],
            }
        ],
        "sensors": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.sensors.automation_anywhere"]}],
        "triggers": [
            {"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.triggers.automation_anywhere"]}
        ],
        "extra-links": [
            f"{_PACKAGE}.links.AutomationAnywhereRunLink",
            f"{_PACKAGE}.links.AutomationAnywhereQueueLink",
        ],
        "connection-types": [
            {
                "connection-type": "automation_anywhere",
                "hook-class-name": f"{_PACKAGE}.hooks.automation_anywhere.AutomationAnywhereHook",
                "hook-name": "Automation Anywhere",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Control Room URL", "login": "Username", "password": "Password"},
                    "placeholders": {
                        "host": "https://mycompany.my.automationanywhere.digital (http:// only for test servers)",
                        "login": "Control Room user (auth types password and api_key)",
                        "password": "Only for auth type password",
                        "extra": '{"auth_type": "password", "multiple_login": true}',
                    },
                },
                "conn-fields": _CONN_FIELDS,
            }
        ],
    }


_CONN_FIELDS: dict[str, Any] = {
    "auth_type": {
        "label": "Auth type",
        "description": (
            "password: Username + Password. api_key: Username + API key. token: a pre-issued "
            "Control Room token (renewed while still valid). Empty: api_key when an API key is "
            "set, token when only a token is set, else password."
        ),
        "schema": {
            "type": ["string", "null"],
            "enum": ["password", "api_key", "token"],
            "values_display": {
                "password": "Username + password",
                "api_key": "Username + API key",
                "token": "Pre-issued token",
            },
        },
    },
    "api_key": {
        "label": "API key",
        "description": (
            "Needed for auth type api_key (with Username). The user's role must allow API keys. For "
            "deferrable tasks or tasks running at the same time the user also needs the Control Room "
            "setting 'Allow multiple sessions': without it, an API key's sessions end each other too (UM1114)."
        ),
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "token": {
        "label": "Token",
        "description": "Needed for auth type token: a Control Room JWT, used in X-Authorization and renewed before it expires.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "multiple_login": {
        "label": "Multiple login",
        "description": (
            "Auth type password only: ask for a multi-session token. Turn it on for deferrable tasks "
            "or tasks running at the same time: the triggerer and the workers each log in, and "
            "without it each login ends the user's other sessions (UM1114). The user needs the "
            "Control Room setting 'Allow multiple sessions'."
        ),
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "session_cache": {
        "label": "Share the session on each worker host",
        "description": (
            "Auth type api_key, or password with Multiple login: the task processes of one worker host "
            "share one Control Room session through a private file of the worker's OS user (0600, in "
            "XDG_RUNTIME_DIR or /dev/shm) instead of logging in and out once each. The file holds the token, "
            "never the password or API key; the triggerer does not use it."
        ),
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "verify_ssl": {
        "label": "Verify TLS certificates",
        "description": (
            "All auth types. Turn off only for test servers; a CA bundle path (a readable PEM file) can be set "
            "in the extra JSON instead. Wins over REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE."
        ),
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": (
            "All auth types: the longest one request may take in total (connecting, sending, and reading "
            "the whole answer)."
        ),
        "schema": {"type": ["number", "null"], "default": 30, "exclusiveMinimum": 0},
    },
    "max_response_bytes": {
        "label": "Largest answer (bytes)",
        "description": (
            "All auth types: answers larger than this, counted after gzip/deflate decoding, fail without "
            "retry (default 67108864, 64 MiB)."
        ),
        "schema": {"type": ["integer", "null"], "default": 67108864, "minimum": 1},
    },
}
