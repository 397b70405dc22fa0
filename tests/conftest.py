"""Named users and runs shared by the web tests: alice owns, bob does not."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from analysis.bench.processes import Redis, temporary_database
from analysis.models import Run, Upload
from analysis.worker import QueueRunner
from tests.images import save, scene

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def fresh_throttles(settings):
    """Each test counts its own requests (the throttles count in the cache), with open sign-up unless it says."""
    cache.clear()
    settings.SIGNUP_ENABLED = True


@pytest.fixture(autouse=True)
def media(settings, tmp_path_factory):
    """Uploads and pictures in a folder of their own; CLIP off the network, readers in this process."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.CLIP_CACHE_DIR = str(tmp_path_factory.mktemp("clip"))
    settings.CLIP_WEIGHTS = None
    settings.ENGINE_WORKERS = 1
    return settings.MEDIA_ROOT


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice's password")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob's password")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


def png_upload(name: str, picture: np.ndarray, tmp_path) -> SimpleUploadedFile:
    path = save(picture, tmp_path / "upload.png")
    return SimpleUploadedFile(name, path.read_bytes(), content_type="image/png")


@pytest.fixture
def queued_run(alice, tmp_path) -> Run:
    """Alice's run of three figures (two copies of one picture) and a file that is not an image."""
    run = Run.objects.create(owner=alice)
    picture = scene(51, 400, 300)
    files = {
        "fig1/blot.png": picture,
        "fig2/blot_turned.png": np.rot90(picture),
        "fig3/cells.png": scene(52, 400, 300),
    }
    for name, image in files.items():
        Upload.store(run, png_upload(name.rsplit("/", 1)[-1], image, tmp_path), name)
    Upload.store(run, SimpleUploadedFile("notes.jpg", b"<html>not a picture</html>"), "notes.jpg")
    return run


@pytest.fixture
def finished_run(queued_run) -> Run:
    assert QueueRunner("test worker").run_next()
    queued_run.refresh_from_db()
    return queued_run


@pytest.fixture
def long_run_figures(tmp_path) -> Path:
    """Thirty-one figures, one a turned copy of another: long enough a run to cut off in the middle."""
    folder = tmp_path / "figures"
    for seed in range(30):
        save(scene(seed, 800, 600), folder / f"figure_{seed:02}.png")
    save(np.rot90(scene(3, 800, 600)), folder / "figure_03_turned.png")
    return folder


@pytest.fixture
def postgres_server() -> str:
    """The URL of a database on the PostgreSQL server the tests may use."""
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not running at {POSTGRES}: {exc}")
    return POSTGRES


@pytest.fixture
def postgres_url(postgres_server):
    """A new database of the test's own."""
    with temporary_database(postgres_server) as url:
        yield url


@pytest.fixture
def redis_installed() -> None:
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")


@pytest.fixture
def redis(tmp_path, redis_installed):
    server = Redis(tmp_path)
    yield server
    server.stop()
