"""The provider's hook (``automation_anywhere``); see :mod:`.automation_anywhere`."""

#: The connection the hook, operators and sensors use when none is named.
DEFAULT_CONN_ID = "automation_anywhere_default"
