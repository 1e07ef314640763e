"""Helpers for the apps' admin classes, which write through services rather than `obj.save()`."""


def adopt_saved(obj, saved):
    """Make the admin's unsaved `obj` the row a service just created (same pk, fields, saved state).

    The admin goes on with `obj` after save_model (inlines, its log entry, the redirect).
    """
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False
