from datetime import timedelta

from analysis.models import Run


def take(run: Run) -> Run:
    """The run as a worker holds it once claimed, as the web process sees it while it runs."""
    claimed = Run.claim_next("test worker", timedelta(minutes=5))
    assert claimed == run
    return claimed
