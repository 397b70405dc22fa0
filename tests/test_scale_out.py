"""Web processes and workers sharing PostgreSQL and Redis over real connections, with real processes killed.

PostgreSQL is the machine's service (a fresh database per test); Redis is a redis-server of the test's own,
so that it can be restarted.
"""

import signal
import time

import pytest

from analysis.bench.processes import Site, free_port, stop
from analysis.bench.strangers import make_user, quota_race

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def site(tmp_path, postgres_url, redis) -> Site:
    data = tmp_path / "data"
    data.mkdir()
    return Site(data, {"DATABASE_URL": postgres_url, "REDIS_URL": redis.url}).migrate()


def run_state(site: Site) -> dict:
    with psycopg.connect(site.extra["DATABASE_URL"]) as db:
        cursor = db.execute(
            "select status, stage, stage_done, worker, attempts, item_count, duplicate_count,"
            " (select count(*) from analysis_item where run_id = analysis_run.id) as item_rows from analysis_run"
        )
        return dict(zip([column.name for column in cursor.description], cursor.fetchone(), strict=True))


def wait_for(site: Site, condition, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while not condition(state := run_state(site)):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    return state


def running(state: dict) -> bool:
    return state["status"] == "running" and state["stage"] == "reading" and state["stage_done"] >= 2


def over(state: dict) -> bool:
    return state["status"] not in ("queued", "running")


def assert_right_result(state: dict) -> None:
    assert state["status"] == "done"
    assert (state["item_count"], state["duplicate_count"], state["item_rows"]) == (31, 1, 31)


CLAIM = """
import time
from datetime import timedelta
from analysis.models import Run
early = {start} - time.time()
time.sleep(max(0.0, early))
run = Run.claim_next("claimer {number}", timedelta(minutes=5))
print("waited" if early > 0 else "late", run.pk if run else "none")
"""


def test_of_many_racing_claimers_exactly_one_gets_each_run(site, long_run_figures):
    for _ in range(3):
        site.create_run(long_run_figures)
    start = time.time() + 12  # every claimer started and waiting, then all at once
    claimers = [
        site.start(f"claimer-{number}", "shell", "--no-imports", "-c", CLAIM.format(start=start, number=number))
        for number in range(8)
    ]
    for claimer in claimers:
        assert claimer.wait(60) == 0
    answers = [(site.data / f"claimer-{number}.log").read_text().split()[-2:] for number in range(8)]
    assert all(waited == "waited" for waited, _ in answers), "a claimer started too late to race"
    won = [run for _, run in answers]
    taken = [run for run in won if run != "none"]
    assert len(taken) == 3 and len(set(taken)) == 3, won
    with psycopg.connect(site.extra["DATABASE_URL"]) as db:
        rows = db.execute("select status, attempts, worker from analysis_run").fetchall()
    assert all(
        status == "running" and attempts == 1 and worker.startswith("claimer") for status, attempts, worker in rows
    )


def test_a_worker_killed_mid_run_is_replaced_by_another(site, long_run_figures):
    site.create_run(long_run_figures)
    workers = [site.start(f"worker-{number}", "analysis_worker") for number in range(2)]
    try:
        state = wait_for(site, running, 90)
        holder = int(state["worker"].split(":")[1])
        victim = next(worker for worker in workers if worker.pid == holder)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        state = wait_for(site, over, 120)
    finally:
        for worker in workers:
            if worker.poll() is None:
                stop(worker)
    assert_right_result(state)
    assert state["attempts"] == 2
    assert int(state["worker"].split(":")[1]) != holder


def test_sigterm_makes_a_worker_hand_its_run_back_and_exit(site, long_run_figures):
    site.create_run(long_run_figures)
    first = site.start("worker-1", "analysis_worker")
    wait_for(site, running, 90)
    first.send_signal(signal.SIGTERM)
    assert first.wait(20) == 0
    state = run_state(site)
    assert (state["status"], state["attempts"], state["worker"]) == ("queued", 0, "")
    assert "released: worker" in (site.data / "worker-1.log").read_text()

    second = site.start("worker-2", "analysis_worker")
    try:
        state = wait_for(site, over, 120)
    finally:
        stop(second)
    assert_right_result(state)
    assert state["attempts"] == 1


def test_a_quota_holds_when_two_web_processes_take_submissions_at_once(tmp_path, postgres_url, redis):
    data = tmp_path / "data"
    data.mkdir()
    site = Site(data, {"DATABASE_URL": postgres_url, "REDIS_URL": redis.url, "USER_MAX_ACTIVE_RUNS": "3"}).migrate()
    key = make_user(site, "quinn")
    ports = [free_port(), free_port()]
    webs = [site.serve(port, "--no-worker") for port in ports]
    try:
        answers = sorted(quota_race(ports, key))
    finally:
        for web in webs:
            stop(web)
    assert answers == [201] * 3 + [400] * 9
    with psycopg.connect(postgres_url) as db:
        assert db.execute("select count(*) from analysis_run").fetchone()[0] == 3
