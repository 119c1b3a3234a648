"""
The example DAGs of ``example_dags/`` once more for each auth mode but ``password``, and the
deferrable one on a single-session connection.

The example files stay as they are (they use ``automation_anywhere_default``, password mode in
the deployment test). Here each one's source is run again with its ``dag_id`` suffixed
``__api_key`` / ``__token`` and ``default_args`` pointing its operators and sensors at the
connection ``aa_api_key`` / ``aa_token``: the same code, the other two auth modes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

EXAMPLES = Path(os.environ.get("AA_DEPLOYMENT_EXAMPLE_DAGS") or Path(__file__).resolve().parents[3] / "example_dags")
MODES = ("api_key", "token")


def _variant(source: str, mode: str) -> str:
    renamed, found = re.subn(r'dag_id="([a-z0-9_]+)"', rf'dag_id="\1__{mode}"', source)
    connected, opened = re.subn(
        r"with DAG\(", f'with DAG(default_args={{"automation_anywhere_conn_id": "aa_{mode}"}}, ', renamed
    )
    if found != 1 or opened != 1:
        raise ValueError(f"an example DAG file is not shaped as expected (dag_id {found}x, 'with DAG(' {opened}x)")
    return connected


#: The deferrable example once more on ``aa_single_session``: password mode without
#: ``multiple_login`` (the connection's default), where the triggerer's and the workers'
#: sessions end each other.
#: Not the asset watcher example: its watcher is a trigger, which ``default_args`` do not
#: reach, so each variant would be the same watcher again, and every event would start three runs.
VARIANTS = [
    (path, mode)
    for path in sorted(EXAMPLES.glob("example_*.py"))
    if path.stem != "example_automation_anywhere_asset_watcher"
    for mode in MODES
]
VARIANTS.append((EXAMPLES / "example_automation_anywhere_deferrable.py", "single_session"))

for _path, _mode in VARIANTS:
    _namespace: dict = {"__name__": f"aa_deployment_{_path.stem}__{_mode}", "__file__": __file__}
    # Compiled as this file, so that Airflow records this file as the DAG's and the workers parse it.
    exec(compile(_variant(_path.read_text(), _mode), __file__, "exec"), _namespace)
    globals()[f"dag_{_path.stem}__{_mode}"] = _namespace["dag"]
