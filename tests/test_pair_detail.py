import re

import pytest


@pytest.mark.django_db
def test_it_draws_both_items_with_the_matched_regions_and_the_inliers(alice_client, finished_run):
    pair = finished_run.pairs.get(rank=1)
    response = alice_client.get(f"/runs/{finished_run.code}/pairs/1/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Pair 1: duplicate" in html
    assert pair.transform in html
    assert html.count("<image ") == 2
    assert f"/runs/{finished_run.code}/items/{pair.first.number}/view.jpg" in html
    assert html.count('<rect class="region"') == 2
    # every inlier, or an even sample of at most 150 of them
    assert min(pair.local_matches, 75) <= len(re.findall("<line ", html)) <= 150
    assert f"/runs/{finished_run.code}/items/{pair.second.number}/original" in html


@pytest.mark.django_db
def test_a_pair_that_does_not_exist_is_404(alice_client, finished_run):
    assert alice_client.get(f"/runs/{finished_run.code}/pairs/999/").status_code == 404


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/pairs/1/").status_code == 404
