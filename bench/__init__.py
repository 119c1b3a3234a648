"""
Benchmarks of the provider against the bundled Control Room emulator on 127.0.0.1
(``make bench`` / ``python -m bench``), each side by side with a baseline that does what
users do without this provider (:mod:`bench.baseline`).

Scenarios: :mod:`bench.adding`, :mod:`bench.saved_add`, :mod:`bench.lookups`,
:mod:`bench.waiting`, :mod:`bench.triggerer`, :mod:`bench.imports`. Importing this package
points Airflow at a throw-away ``AIRFLOW_HOME`` (unless one is set), so import it before
anything imports ``airflow``.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="aa-provider-bench-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
