"""Cancellation of long work: a callback raises Cancelled, the work stops and leaves nothing half-done.

The sampler's per-step callback, the exporters' progress callbacks and the studio's worker
all use this one exception, so a job is cancelled the same way whatever it runs.
"""


class Cancelled(Exception):
    """Newer work superseded this job, or the user pressed Cancel."""
