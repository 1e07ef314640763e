"""Checks every frame a test client of hub.testing receives goes through (e.g. a protocol table).

A suite registers its checks once (Hub's conftest registers tests/protocol_schema.check_frame);
each is called as check(frame, sent_events), sent_events mapping the client's refs to the
events it sent, and raises to fail the test.
"""

_checks = []


def register_frame_check(check):
    """Call `check(frame, sent_events)` on every frame a hub.testing client receives."""
    if check not in _checks:
        _checks.append(check)


def check_frame(frame, sent_events):
    for check in _checks:
        check(frame, sent_events)
