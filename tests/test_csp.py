"""The Content-Security-Policy header (django-csp); the browser test fails on any violation of it."""

import pytest


@pytest.mark.django_db
def test_every_page_forbids_inline_scripts_and_foreign_origins(alice_client, finished_run):
    policy = alice_client.get(f"/runs/{finished_run.code}/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    report = alice_client.get(f"/runs/{finished_run.code}/report.html")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in report and "script-src 'self'" in report
