"""``connectors webhooks serve``: a small receiver that verifies, stores, de-duplicates and hands vendor
webhook events off, exactly once, as input work items or Control Room process runs.

    sources.py     who may deliver and how their signature header is checked
    receiver.py    the decisions (refusals with fixed reasons, de-duplication), free of HTTP
    app.py         the HTTP app: bounded, streamed bodies
    store.py       the SQLite event log and each event's hand-off state (the outbox)
    dispatcher.py  the hand-off thread: intent, hand-off, outcome; reconciliation after a crash
    sinks.py       work item files, or Control Room runs (the one adapter over ControlRoomClient)
    service.py     assembling and running it; status and retry
"""
