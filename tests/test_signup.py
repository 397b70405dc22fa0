import pytest


@pytest.mark.django_db
def test_a_visitor_creates_an_account_and_is_signed_in(client, django_user_model):
    password = "correct horse battery 9"
    response = client.post("/accounts/signup/", {"username": "erin", "password1": password, "password2": password})
    assert response.status_code == 302
    assert response.url == "/"
    assert django_user_model.objects.filter(username="erin").exists()
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_a_weak_password_is_refused(client, django_user_model):
    response = client.post("/accounts/signup/", {"username": "erin", "password1": "12345678", "password2": "12345678"})
    assert response.status_code == 400
    assert not django_user_model.objects.exists()
    # said under the password, after its input: not above it, not under the confirmation
    html = response.content.decode()
    password = html.index('id="id_password1"')
    error = html.index('<ul class="errorlist" id="id_password1_error">')
    assert password < error < html.index('id="id_password2"')
    assert "This password is too common." in html[error:]
    assert 'id="id_password2_error"' not in html


@pytest.mark.django_db
def test_sign_up_can_be_turned_off(client, settings):
    settings.SIGNUP_ENABLED = False
    assert client.get("/accounts/signup/").status_code == 404
    assert b"/accounts/signup/" not in client.get("/accounts/login/").content


@pytest.mark.django_db
def test_a_user_signs_in_and_out(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice's password"})
    assert response.url == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert b"Find duplicated images in figures and papers" in client.get("/").content  # the visitor's page
