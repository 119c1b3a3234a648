"""
An Automation Anywhere Control Room emulator, like ``moto`` for AWS.

It speaks the Control Room's authentication and workload-management (WLM) API over real
HTTP on ``127.0.0.1``, with an emulated bot working the queues and switchable faults, so
the provider's tests, the demo and users' own DAG tests run without a Control Room.

Start it
--------
- Python: ``with ControlRoomEmulator() as emulator: ... emulator.url ...``
- Command line: ``automation-anywhere-emulator --port 8765`` or ``python -m
  automation_anywhere_emulator --port 8765`` (``--help``).
- pytest: the ``aa_emulator`` fixture (see :mod:`.pytest_plugin`), registered on install.
- A Control Room version: ``EmulatorConfig.for_profile(name)``, ``--profile NAME``, ``pytest
  --aa-emulator-profile NAME`` (:mod:`.profiles`); ``strict`` refuses what the API reference
  does not document (:mod:`.strict`).
- HTTPS: ``ControlRoomEmulator(tls=True)``, ``--tls``, or the ``aa_emulator_tls`` fixture:
  a self-signed certificate (EC P-256, SAN ``localhost`` and ``127.0.0.1``, 30 days) made at
  start, kept across ``restart``, deleted on stop; trust ``emulator.ca_file``
  (``requests.get(url, verify=emulator.ca_file)``). The handshake happens in the request
  thread, under the read timeout.

Seed (``default_seed.json``; replace it with ``seed=`` or ``--seed FILE``)
-------------------------------------------------------------------------
========  ===============  ==========================================================
mode      user             credentials
========  ===============  ==========================================================
password  ``bot_runner``   password ``Emulator-Passw0rd!`` (multiple logins allowed)
api_key   ``api_user``     API key ``EMUAPIKEY0Qx7Rt2Lm9Vb4Nc8Hs3Kd6Wp1Zf5Gj8`` (multiple logins allowed)
token     ``token_user``   password ``Token-Passw0rd!``; tokens from ``issue_token``
—         ``single_user``  password ``Single-Passw0rd!``; multiple logins not allowed
========  ===============  ==========================================================

Queues 20 "Invoices", 21 "Payments" (``disallowDuplicate``), 22 "Orders". Work item ids
count up from 40001.

Bots 501 "Invoice Processor" (completes; outputs ``sResult``, ``nPagesRead``, ``bApproved``)
and 502 "Report Builder" (ends ``RUN_FAILED`` with a message), both in ``Bots\\Finance``; for
look-ups by path 503 "Invoice Processor" in ``Bots\\Archive`` and 504 "Invoice Processor v2".
``bot_runner``'s private workspace holds 601 (``Bots\\Drafts\\Invoice Processor``). Run-as
users 29 ``runner_finance``, 30 ``runner_reports``, 31 ``runner_finance_eu``. Any positive
user ids can be run-as users. Device pools 61 "Finance Runners" (devices 111, 112) and 62 "Empty Pool" (no
device). User ``bot_deployer`` (password ``Deployer-Passw0rd!``) has no queue rights: a
user seeded with ``roles`` but none of them ``AAE_Queue Admin`` gets 403 for the queue list.
User ``cr_admin`` (password ``Admin-Passw0rd!``, ``AAE_Admin``) may read and manage roles.

API served
----------
- ``POST /v1|v2/authentication`` (password, optional ``multipleLogin``, or ``apiKey``),
  ``POST /v1|v2/authentication/token`` (refresh), ``GET /v1/authentication/token?token=``
  (validate), ``POST /v1/authentication/logout``. ``auth_v1_enabled`` / ``auth_v2_enabled``
  switch off login and refresh of a version (404), as on new (no v1) and old (no v2)
  Control Rooms; validate and logout stay. Session rules: see :mod:`.state`.
- Everything else needs ``X-Authorization: <jwt>`` of a live session; ``Authorization:
  Bearer`` is refused. Errors: 401 with ``UM1101`` bad credentials, ``UM1102`` no token,
  ``UM1103`` unknown or logged-out session, ``UM1110`` expired, ``UM1114`` logged in twice.
- ``/v3/wlm/queues/list``, ``/v3|v4/wlm/queues/{queueId}``, and on
  ``/v3/wlm/queues/{queueId}/workitems``: add (``POST``), ``/list`` (``POST``, grammar in
  :mod:`.filters`), ``/{id}`` get / update (``PUT``, also on ``/v4``, optimistic lock on
  ``version`` → 409) / delete. Adds to a ``disallowDuplicate`` queue with data equal to an
  existing item (or an earlier one of the request) are refused whole: 409
  ``WLM_DUPLICATE_WORKITEM``, ``details`` the JSON list of duplicate indexes. Big queues
  stay fast (:mod:`.item_lists`): a look-up by id (an ``eq`` on ``id``, or an ``or`` of up
  to 100) is answered from an index in milliseconds on a 100,000-item queue, as is a page
  sorted by ``id``, a range on ``id`` (a lost add's reconciliation), statuses (a
  re-queue's pages) and an export's window on ``updatedOn``; other filters read every
  item (a few hundred ms there).
- Bots (:mod:`.deployments`): ``POST /v4/automations/deploy`` (``botId``,
  ``unattendedRequest.runAsUserIds``; 404 while ``deploy_v4_enabled`` is off) and ``POST
  /v3/automations/deploy`` (``fileId``, ``runAsUserIds``) → ``{"deploymentId",
  "automationName"}``, one run per run-as user; ``poolIds`` are used only with v4's
  ``deviceUsageType: RUN_ON_POOL_DEVICES`` or v3's ``overrideDefaultDevice: true`` (runs
  then take the pools' devices in turn, the first ``numOfRunAsUsersToUse`` users; 404 for
  an unknown pool, 412 "No compatible targets found" for pools without devices), else the
  run-as users' default device (``deviceId`` of the activity record tells which); ``botInput`` must be typed variables (400
  naming the variable otherwise), an unknown bot → 404 ``BOT_NOT_FOUND``. ``POST
  /v3/activity/list`` (list grammar; filter on ``deploymentId``) lists runs from
  ``activity_delay`` seconds after the deployment; ``GET /v3/activity/execution/{id}`` adds
  ``botOutVariables.values``; ``POST /v3/activity/manage`` (``stop_executions``) ends
  unfinished runs ``RUN_ABORTED`` and lists the others in ``manage_action_errors``; with
  ``stop_takes_deployment_ids`` its ids are deployment ids (activity record ids: not found).
  API tasks (seeded ``"apiTask": true``): v4 with ``executionType: RUN_NOW`` and
  ``headlessRequest`` only (checked strictly), ``numberOfExecutions`` runs without a
  device, at most ``api_task_slots`` at once: 409 ``API_TASK_SLOTS_EXHAUSTED``, or ``QUEUED``
  with ``queueOnSlotsExhaustion``.
- Look-ups by name (:mod:`.lookups`): ``POST /v2/repository/workspaces/public|private/files/list``
  (task bots, API tasks and the folders above them, paths ``Automation Anywhere\\Bots\\...``), ``POST
  /v1/devices/runasusers/list``, ``POST /v2/devices/pools/list``; with ``/v3/wlm/queues/list``
  they take the list grammar of :mod:`.filters` (e.g. ``eq`` on ``name`` or ``username``).
- Work item changes follow AA's status rules (:mod:`.status_rules`: 400 for a move a person
  may not make, for editing a READY_TO_RUN or ACTIVE item, for deleting an ACTIVE one); the
  bot fails an item with ``FAIL_ONCE`` in its data once, then completes it.
- Roles (:mod:`.roles`): ``/v1|v2/usermanagement/roles`` (``/list``, ``GET``/``PUT``
  ``/{id}`` with an optimistic lock on ``version``, ``POST``; ``existingRepositoryPermissions``
  kept as sent), 403 but for role managers;
  ``roles_v2_enabled`` / ``roles_v1_enabled`` switch a version off (404).
- History (:mod:`.history`): ``history_runs`` finished runs over the two days before it is
  set (0 by default, 600 from the command line), listed with deployed runs by ``POST
  /v3/activity/list``, and one audit entry each by ``POST /v1/audit/messages/list``; filters
  compare ISO instants as instants.
- ``numeric_ids``: ids, versions and other numeric fields as JSON numbers, else strings.
- Every error body is ``{"code", "message", "details"}``, also for what the HTTP layer refuses.
- Every answer has a ``Date`` header on the Control Room's clock.

Control Room clock
------------------
``clock_offset`` (seconds, ± ten years; ``configure``, ``POST /_emulator/config``,
``--clock-offset``): the Control Room's clock runs that far ahead of this machine's (behind
when negative). Timestamps it records (``createdOn``, ``updatedOn``, bot run times), token
``iat``/``exp``, token expiry and the ``Date`` header follow it; delays (``pickup_delay``,
``work_delay``, ``activity_delay``) and ``token_lifetime`` stay durations. A change while
running moves the clock from then on; what was recorded keeps its times (:mod:`.clock`).

Hostile and broken requests
---------------------------
Answered 400 (413 for a ``Content-Length`` over 32 MiB, left unread), never a traceback:
JSON nested over 200 levels, ``NaN``/``Infinity``/``1e400``, filters nested over 64 levels,
``page.offset``/``length`` outside 0..10**9, numbers beyond a float in filters, ids and
versions beyond a Java ``long`` (in paths and bodies), out-of-bounds settings and fault
parameters, bad ``Content-Length``. A connection silent for ``request_read_timeout`` (10 s;
a constructor argument) is let go: no request, a body short of its ``Content-Length`` (400),
no TLS handshake, or an answer not read.

What breaks "exactly once" in real deployments
----------------------------------------------
Settings (``configure``, ``POST /_emulator/config``, command line) and a fault:

- ``busy_queues`` (``--busy-queue 20=50``, repeatable): other producers add that many items
  per second to a queue, ``json`` ``{"producer": "other", "n": <k>}``, ids interleaved with
  everybody's in creation order; the bot works them too. Made on demand under the lock, as
  if all along: nothing runs while nobody asks.
- ``page_cap`` (``--page-cap N``): list pages hold at most N records whatever was asked;
  ``totalFilter`` stays truthful.
- ``ignore_offset`` (``--ignore-offset``): lists answer as if ``page.offset`` were 0.
- ``ignore_filter`` (``--ignore-filter``): lists answer as if the request had no ``filter``.
- ``refuse_time_filters`` (``configure``/``POST /_emulator/config`` only): lists answer a
  filter on a time field (``modifiedOn``, ``updatedOn``, ...) with a 400; sorting on it works.
- ``add_answer_shape`` (``configure``/``POST /_emulator/config`` only): an add is answered
  ``{"list": [...]}`` (default), ``{"workItems": [...]}`` (``"workItems"``) or, for one
  item, with the item itself (``"item"``), the shapes Control Rooms are seen to use.
- Fault ``late_commit`` (``seconds``, ``answer``: ``drop`` or ``timeout``): a request that
  would be accepted gets no answer and is committed ``seconds`` later, as if it came then
  (ids, ``createdOn``); one that would be refused is answered at once. ``stop`` and
  ``reset`` forget commits not done yet. See :mod:`.faults`.

``emulator.add_work_items(queue_id, datas)`` adds items straight into a queue, no HTTP
(100,000 in about 1.5 s), to fill big queues for tests and benchmarks.

Emulated bot (:mod:`.bot_runner`)
---------------------------------
NEW → ACTIVE after ``pickup_delay`` s, then after ``work_delay`` s, by the item's ``json``
(first rule that applies): a value ``STATUS:<X>`` → status X (``error`` set for FAILED,
UNSUCCESSFUL, DATA_ERROR, ERROR); a value containing ``FAIL`` → FAILED with ``error``
"Emulated bot failure: <attribute> contains FAIL"; else COMPLETED with ``result``
"Processed by emulated bot". ``bot_rate`` limits items per second, ``pause_bot`` holds them.

Emulated bot runs: ``DEPLOYED`` → ``RUNNING`` after ``pickup_delay`` → the outcome after
``work_delay``: a STRING input ``STATUS:<X>`` → ``X`` (e.g. ``RUN_PAUSED``, ``UNKNOWN``); one
containing ``FAIL`` → ``RUN_FAILED`` with a message; else the bot's seeded outcome. Outputs of
a completed run: the bot's seeded outputs plus the inputs echoed back.

Faults, counters, controls
--------------------------
Fault kinds and parameters: :mod:`.faults` (among them ``drip``: an answer trickling in,
``oversized``: a huge answer, or a gzip bomb, and ``late_commit``: committed after the
client gave up). HTTP controls under ``/_emulator/``:
:mod:`.admin`. ``emulator.counters`` counts requests per endpoint and status, logins per
user and refreshes. :meth:`ControlRoomEmulator.restart` keeps data and drops sessions.
"""

from automation_anywhere_emulator.config import EmulatorConfig
from automation_anywhere_emulator.server import ControlRoomEmulator

# The same version as the provider's (its extra emulator pins it; make dist checks both).
# emulator/pyproject.toml reads it without importing the package.
__version__ = "0.1.0"

__all__ = ["ControlRoomEmulator", "EmulatorConfig"]
