import pytest

from analysis.bench.load import load


@pytest.mark.usefixtures("redis_installed")
def test_the_load_benchmark_measures_users_whose_runs_all_come_out_right(postgres_server):
    measured = load(users=4, workers=2, postgres_url=postgres_server)
    assert [run["status"] for run in measured["runs"]] == ["done"] * 4
    assert all(run["correct"] for run in measured["runs"])
    assert len(measured["page_times"]) >= 4
    assert measured["held"] == 1  # user 0 holds a socket it never reads
    assert all(measured["messages"][run["code"]] for run in measured["runs"])
