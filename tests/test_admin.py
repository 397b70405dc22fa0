import re

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
def test_users_who_are_not_staff_are_sent_to_log_in(client, runs, django_user_model):
    client.force_login(django_user_model.objects.get(username="alice"))
    response = client.get("/admin/analysis/run/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


@pytest.mark.django_db
def test_audit_data_is_read_only_in_the_admin(admin_client, finished_run):
    page = admin_client.get(f"/admin/analysis/run/{finished_run.pk}/change/").content.decode()
    assert "test worker" in page and "attempts" in page.lower()  # the worker, its lease and attempts are shown
    content = page.split('id="content-main"')[1]
    fields = re.findall(r"<(?:input|select|textarea)\b[^>]*>", content)
    assert fields and all('type="hidden"' in field for field in fields), fields
    assert 'name="_save"' not in content and 'class="deletelink"' not in content
    # no "add another" row: the inlines' script offers one only below their maximum
    assert set(re.findall(r'name="\w+-MAX_NUM_FORMS" value="(\d+)"', content)) == {"0"}
    assert admin_client.get("/admin/analysis/run/add/").status_code == 403
    listing = admin_client.get("/admin/analysis/run/").content.decode()
    assert "/admin/analysis/run/add/" not in listing
    before = Run.objects.get(pk=finished_run.pk).status
    refused = admin_client.post(f"/admin/analysis/run/{finished_run.pk}/change/", {"status": "failed"})
    assert refused.status_code == 403 and Run.objects.get(pk=finished_run.pk).status == before
    assert admin_client.post(f"/admin/analysis/run/{finished_run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Run.objects.filter(pk=finished_run.pk).exists()
    for model in ("review", "libraryentry"):
        assert admin_client.get(f"/admin/analysis/{model}/add/").status_code == 403
