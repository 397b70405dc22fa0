"""The settings module read in a fresh process, as a deployment starts it."""

import secrets

from tests.commands import manage

PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default'].get('HOST', ''), "
    "settings.CHANNEL_LAYERS['default']['BACKEND'], settings.SESSION_COOKIE_SECURE)"
)


def test_with_nothing_set_but_debug_it_uses_sqlite_and_the_in_process_layer(tmp_path):
    done = manage("shell", "--no-imports", "-c", PRINT_SETTINGS, DEBUG="1", DATA_DIR=str(tmp_path))
    assert done.stdout.split() == ["django.db.backends.sqlite3", "channels.layers.InMemoryChannelLayer", "False"]


def test_it_reads_postgresql_and_redis_from_urls(tmp_path):
    done = manage(
        "shell",
        "--no-imports",
        "-c",
        PRINT_SETTINGS,
        DEBUG="1",
        DATABASE_URL="postgres://deepchecker@db.internal:5432/deepchecker",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    assert done.stdout.split() == [
        "django.db.backends.postgresql",
        "db.internal",
        "channels_redis.core.RedisChannelLayer",
        "False",
    ]


def test_an_idle_listener_on_redis_waits_without_a_read_timeout(tmp_path, redis):
    listen = (
        "import asyncio; from channels.layers import get_channel_layer\n"
        "try: asyncio.run(asyncio.wait_for(get_channel_layer().receive('analysis'), 8))\n"
        "except BaseException as exc: print(type(exc).__module__, type(exc).__name__)"
    )
    done = manage("shell", "--no-imports", "-c", listen, DATA_DIR=str(tmp_path), REDIS_URL=redis.url)
    assert done.stdout.split() == ["builtins", "TimeoutError"], done.stdout  # no message in 8 s, not redis's error


CANCEL_RECEIVES = """
import asyncio, random
from channels.layers import get_channel_layer

async def cancel_receives():
    layer, stuck = get_channel_layer(), 0
    for _ in range(300):
        receiving = asyncio.ensure_future(layer.receive(await layer.new_channel()))
        await asyncio.sleep(random.random() * 0.003)  # anywhere in its send, its wait or its read
        receiving.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(receiving), 3)
        except asyncio.CancelledError:
            pass
        except TimeoutError:
            stuck += 1
    print("stuck", stuck)

asyncio.run(cancel_receives())
"""


def test_a_receive_on_redis_cancelled_at_any_moment_ends(tmp_path, redis):
    """What a closed websocket does to its consumer: a receive that ignored it would hold shutdown for ever."""
    done = manage("shell", "--no-imports", "-c", CANCEL_RECEIVES, DATA_DIR=str(tmp_path), REDIS_URL=redis.url)
    assert done.stdout.split() == ["stuck", "0"], done.stdout + done.stderr


def test_without_a_secret_key_it_makes_one_once_in_the_data_folder_for_its_owner_only(tmp_path):
    print_key = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = manage("shell", "--no-imports", "-c", print_key, DATA_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    kept = tmp_path / "secret_key"
    assert first.stdout.strip() == kept.read_text().strip() and len(kept.read_text().strip()) >= 50
    assert kept.stat().st_mode & 0o777 == 0o600
    again = manage("shell", "--no-imports", "-c", print_key, DATA_DIR=str(tmp_path))
    assert again.stdout == first.stdout
    assert manage("check", DATA_DIR=str(tmp_path)).returncode == 0


def test_a_secret_key_in_the_environment_is_used_and_none_is_made(tmp_path):
    print_key = "from django.conf import settings; print(settings.SECRET_KEY)"
    done = manage("shell", "--no-imports", "-c", print_key, DATA_DIR=str(tmp_path), SECRET_KEY="from-the-environment")
    assert done.stdout.strip() == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_the_deployment_check_passes_with_production_settings(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(secrets.token_urlsafe(64))
    done = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATA_DIR=str(tmp_path),
        SECRET_KEY_FILE=str(key_file),
        HTTPS="1",
        ALLOWED_HOSTS="deepchecker.example.org",
        HSTS_INCLUDE_SUBDOMAINS="1",
        HSTS_PRELOAD="1",
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_https_alone_does_not_ask_for_hsts_on_subdomains_or_in_preload_lists(tmp_path):
    code = (
        "from django.conf import settings; "
        "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD)"
    )
    done = manage("shell", "--no-imports", "-c", code, DATA_DIR=str(tmp_path), HTTPS="1", SECRET_KEY="k" * 60)
    assert done.stdout.split() == ["31536000", "False", "False"]


def test_with_nothing_set_debug_is_off_and_a_missing_page_shows_no_url_patterns(tmp_path):
    code = (
        "from django.conf import settings; from django.test import Client; "
        "print(settings.DEBUG, b'URLconf' in Client().get('/no/such/page/').content)"
    )
    done = manage("shell", "--no-imports", "-c", code, DATA_DIR=str(tmp_path))
    assert done.stdout.split()[-2:] == ["False", "False"], done.stderr


def test_a_bad_value_is_named(tmp_path):
    done = manage("check", DEBUG="maybe", DATA_DIR=str(tmp_path))
    assert "DEBUG must be true or false, not 'maybe'" in done.stderr
