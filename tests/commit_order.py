"""Forcing two transactions to commit out of insert order on PostgreSQL (stream-position tests)."""

import threading
import time

from django.db import connection, transaction


def store_first_commit_last(store):
    """Run `store("1st")` in a transaction that stays open, then `store("2nd")` in another; return both rows.

    Asserts that the second writer waits on a lock (seen in PostgreSQL's pg_stat_activity)
    and has not finished while the first transaction is open; then commits the first.
    """
    stored, release, results = threading.Event(), threading.Event(), {}

    def slow():  # stores first, commits last
        try:
            with transaction.atomic():
                results["slow"] = store("1st")
                stored.set()
                release.wait(20)
        finally:
            connection.close()

    def quick():
        try:
            results["quick"] = store("2nd")
        finally:
            connection.close()

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    threads[0].start()
    assert stored.wait(20)
    threads[1].start()
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while True:  # the second writer waits on the first one's lock (seen in PostgreSQL itself)
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0] >= 1:
                break
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.02)
    assert "quick" not in results  # it cannot commit ahead of the first
    release.set()
    for thread in threads:
        thread.join(20)
    return results["slow"], results["quick"]
