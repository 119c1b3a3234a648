"""
The Control Room protocol, free of I/O: requests to send, answers to read, statuses to
classify, errors to raise. Transports (the hook's ``requests`` session, the trigger's
``httpx`` client) only move bytes; see :mod:`.exchange`.
"""
