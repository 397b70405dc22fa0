import io

import pytest
from PIL import Image


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
@pytest.mark.parametrize(("size", "longest"), [("thumbnail", 256), ("view", 400)])
def test_the_owner_gets_the_pictures_of_an_item(alice_client, finished_run, size, longest):
    response = alice_client.get(f"/runs/{finished_run.code}/items/0/{size}.jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(body(response))) as picture:
        assert picture.format == "JPEG" and max(picture.size) == longest


@pytest.mark.django_db
def test_the_owner_downloads_the_original_file_as_an_attachment(alice_client, finished_run):
    item = finished_run.items.get(number=0)
    response = alice_client.get(f"/runs/{finished_run.code}/items/0/original")
    assert response["Content-Disposition"] == f'attachment; filename="{item.name.rsplit("/", 1)[-1]}"'
    with item.upload.file.open("rb") as stored:
        assert body(response) == stored.read()


@pytest.mark.django_db
def test_an_unknown_picture_size_or_item_is_404(alice_client, finished_run):
    assert alice_client.get(f"/runs/{finished_run.code}/items/0/huge.jpg").status_code == 404
    assert alice_client.get(f"/runs/{finished_run.code}/items/99/view.jpg").status_code == 404


@pytest.mark.django_db
def test_the_owner_gets_a_thumbnail_of_one_panel_of_a_figure_and_bob_gets_404(alice_client, bob_client, finished_run):
    item = finished_run.items.get(number=0)
    item.panels = [[0, 0, item.width // 2, item.height], [item.width // 2, 0, item.width, item.height // 4]]
    item.save(update_fields=["panels"])
    response = alice_client.get(f"/runs/{finished_run.code}/items/0/panels/2.jpg")
    assert response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as picture:
        assert max(picture.size) <= 256
        assert picture.width / picture.height == pytest.approx(2 * item.width / item.height, rel=0.05)
    assert alice_client.get(f"/runs/{finished_run.code}/items/0/panels/3.jpg").status_code == 404
    assert alice_client.get(f"/runs/{finished_run.code}/items/0/panels/0.jpg").status_code == 404
    assert bob_client.get(f"/runs/{finished_run.code}/items/0/panels/2.jpg").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["items/0/thumbnail.jpg", "items/0/view.jpg", "items/0/original", "items/0/panels/1.jpg"]
)
def test_bob_gets_404(bob_client, finished_run, path):
    assert bob_client.get(f"/runs/{finished_run.code}/{path}").status_code == 404


@pytest.mark.django_db
def test_uploads_are_not_public_files(client, finished_run):
    upload = finished_run.uploads.first()
    assert client.get(f"/media/{upload.file.name}").status_code == 404
    assert client.get(f"/static/{upload.file.name}").status_code == 404
