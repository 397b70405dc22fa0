import pytest

from analysis.models import Run, Upload


@pytest.fixture
def runs(django_user_model):
    alice = django_user_model.objects.create_user("alice", password="password")
    bob = django_user_model.objects.create_user("bob", password="password")
    failed = Run.objects.create(owner=alice, status=Run.Status.FAILED, error="worker lost")
    Upload.objects.create(run=failed, name="figures/western.png", size=1, sha256="0" * 64, file="x")
    Run.objects.create(owner=bob, status=Run.Status.DONE)
    return failed


@pytest.mark.django_db
def test_staff_filter_runs_by_status(admin_client, runs):
    response = admin_client.get("/admin/analysis/run/", {"status__exact": "failed"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [runs]


@pytest.mark.django_db
def test_staff_find_runs_by_file_name_and_owner(admin_client, runs):
    by_file = admin_client.get("/admin/analysis/run/", {"q": "western"})
    assert list(by_file.context["cl"].result_list) == [runs]
    by_owner = admin_client.get("/admin/analysis/run/", {"q": "bob"})
    assert [run.owner.username for run in by_owner.context["cl"].result_list] == ["bob"]


@pytest.mark.django_db
def test_staff_see_the_error_of_a_failed_run(admin_client, runs):
    response = admin_client.get(f"/admin/analysis/run/{runs.pk}/change/")
    assert response.status_code == 200
    assert b"worker lost" in response.content
    assert b"figures/western.png" in response.content


@pytest.mark.django_db
def test_users_who_are_not_staff_are_sent_to_log_in(client, runs):
    client.login(username="alice", password="password")
    response = client.get("/admin/analysis/run/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
