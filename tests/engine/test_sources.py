from pathlib import Path

import numpy as np
import pytest

from analysis.engine.sources import Limits, UnreadableItem, collect_files, decode, expand
from tests.images import pdf_with_images, png_header_only, save, scene

LIMITS = Limits()


def names(paths):
    files, skipped = collect_files(paths)
    return [f.name for f in files], skipped


def test_it_names_files_by_their_path_under_the_root(tmp_path: Path):
    save(scene(1), tmp_path / "figs" / "fig1.png")
    save(scene(2), tmp_path / "other" / "fig1.png")
    found, skipped = names([tmp_path])
    assert found == ["figs/fig1.png", "other/fig1.png"]
    assert skipped == []


def test_it_names_a_file_given_directly_by_its_own_name(tmp_path: Path):
    path = save(scene(1), tmp_path / "deep" / "panel.jpg")
    assert names([path])[0] == ["panel.jpg"]


def test_it_keeps_names_unique_across_roots(tmp_path: Path):
    save(scene(1), tmp_path / "a" / "fig.png")
    save(scene(2), tmp_path / "b" / "fig.png")
    found, _ = names([tmp_path / "a", tmp_path / "b"])
    assert found == ["fig.png", "b/fig.png"]


def test_it_reports_missing_paths(tmp_path: Path):
    found, skipped = names([tmp_path / "nowhere"])
    assert found == []
    assert skipped[0].reason == "no such file or folder"


def test_it_lists_every_page_of_a_multipage_tiff(tmp_path: Path):
    from PIL import Image

    pages = [Image.fromarray(scene(seed)) for seed in range(3)]
    path = tmp_path / "stack.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    files, _ = collect_files([tmp_path])
    refs = expand(files[0], LIMITS)
    assert [r.name for r in refs] == ["stack.tif#page=1", "stack.tif#page=2", "stack.tif#page=3"]
    second = decode(refs[1], 1024, LIMITS)
    assert np.abs(second.rgb.astype(int) - scene(1).astype(int)).mean() < 3


def test_it_lists_pdf_pages_and_embedded_images(tmp_path: Path):
    pdf_with_images(tmp_path / "paper.pdf", [scene(1), scene(2)])
    files, _ = collect_files([tmp_path])
    refs = expand(files[0], LIMITS)
    assert [r.name for r in refs] == [
        "paper.pdf#page=1",
        "paper.pdf#page=1&image=1",
        "paper.pdf#page=2",
        "paper.pdf#page=2&image=1",
    ]
    page = decode(refs[0], 4096, LIMITS)
    assert page.original_size == (1275, 1650)  # letter size at 150 dpi
    embedded = decode(refs[1], 4096, LIMITS)
    assert embedded.original_size == (480, 360)
    assert np.abs(embedded.rgb.astype(int) - scene(1).astype(int)).mean() < 6
    # drawn 432 pt wide (324 pt high) at 90 pt from the left and the top of a 612 x 792 pt page
    (a, b, c), (d, e, f) = embedded.placement
    assert (a, b, c) == pytest.approx((432 / 612, 0, 90 / 612))
    assert (d, e, f) == pytest.approx((0, 324 / 792, 90 / 792))
    assert page.placement is None


def test_it_downscales_to_the_requested_size_and_remembers_the_original(tmp_path: Path):
    save(scene(1, 1600, 1200), tmp_path / "big.jpg", quality=90)
    files, _ = collect_files([tmp_path])
    decoded = decode(expand(files[0], LIMITS)[0], 800, LIMITS)
    assert decoded.rgb.shape == (600, 800, 3)
    assert decoded.original_size == (1600, 1200)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"<html><body>not a picture</body></html>", "not a readable image"),
    ],
)
def test_it_refuses_files_that_are_not_images(tmp_path: Path, content: bytes, message: str):
    (tmp_path / "fake.jpg").write_bytes(content)
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match=message):
        expand(files[0], LIMITS)


def test_it_refuses_a_decompression_bomb_without_decoding_it(tmp_path: Path):
    png_header_only(tmp_path / "bomb.png", 20000, 20000)
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="image too large: 20000x20000 = 400 megapixels"):
        expand(files[0], LIMITS)


def test_it_refuses_a_truncated_jpeg(tmp_path: Path):
    path = save(scene(3), tmp_path / "cut.jpg", quality=90)
    path.write_bytes(path.read_bytes()[:4000])
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="corrupt or truncated"):
        decode(expand(files[0], LIMITS)[0], 1024, LIMITS)


def test_it_refuses_formats_outside_the_allow_list(tmp_path: Path):
    from PIL import Image

    Image.fromarray(scene(1)).save(tmp_path / "picture.ppm")
    (tmp_path / "picture.ppm").rename(tmp_path / "picture.png")
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="not a readable image"):
        expand(files[0], LIMITS)


def test_it_refuses_unsupported_extensions(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello")
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="unsupported file type '.txt'"):
        expand(files[0], LIMITS)


def test_it_refuses_an_encrypted_pdf(tmp_path: Path):
    pdf_with_images(tmp_path / "locked.pdf", [scene(1)], password="secret")
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="encrypted PDF"):
        expand(files[0], LIMITS)


def test_it_refuses_a_malformed_pdf(tmp_path: Path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="not a readable PDF"):
        expand(files[0], LIMITS)


def test_it_refuses_a_pdf_with_too_many_pages(tmp_path: Path):
    pdf_with_images(tmp_path / "long.pdf", [scene(1)] * 3)
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem, match="PDF has 3 pages, the limit is 2"):
        expand(files[0], Limits(max_pdf_pages=2))


def test_a_jpeg_with_an_exif_rotation_is_read_upright_with_its_upright_size(tmp_path: Path):
    from PIL import Image

    picture = Image.fromarray(scene(5, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: to be turned 90 degrees clockwise for display
    picture.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    files, _ = collect_files([tmp_path])
    decoded = decode(expand(files[0], LIMITS)[0], 1024, LIMITS)
    assert decoded.rgb.shape == (400, 200, 3)
    assert decoded.original_size == (200, 400)


def test_a_png_html_polyglot_is_read_as_the_picture_it_holds(tmp_path: Path):
    path = save(scene(5, 320, 240), tmp_path / "figure.png")
    path.write_bytes(path.read_bytes() + b"<html><script>alert(document.cookie)</script></html>")
    files, _ = collect_files([tmp_path])
    decoded = decode(expand(files[0], LIMITS)[0], 1024, LIMITS)
    assert decoded.original_size == (320, 240)


def test_a_corrupt_png_is_refused(tmp_path: Path):
    path = save(scene(6, 320, 240), tmp_path / "figure.png")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 400] = bytes(400)  # zeros over compressed pixel data
    path.write_bytes(bytes(data))
    files, _ = collect_files([tmp_path])
    with pytest.raises(UnreadableItem):
        decode(expand(files[0], LIMITS)[0], 1024, LIMITS)


def test_a_pdf_page_with_a_huge_page_box_is_rendered_within_the_pixel_cap(tmp_path: Path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=14400, height=14400)  # 200 x 200 inches, PDF's largest page
    with (tmp_path / "poster.pdf").open("wb") as out:
        writer.write(out)
    files, _ = collect_files([tmp_path])
    (page,) = expand(files[0], LIMITS)
    decoded = decode(page, 1024, LIMITS)
    width, height = decoded.original_size
    assert width * height <= LIMITS.pdf_max_page_pixels
    assert max(decoded.rgb.shape) <= 1024
