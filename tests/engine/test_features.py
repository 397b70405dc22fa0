import cv2
import numpy as np

from analysis.engine.features import (
    FeatureOptions,
    extract,
    mirror_descriptors,
    mirror_keypoints,
    normalise_contrast,
    split_panels,
    text_mask,
)
from analysis.engine.sources import Decoded, ItemRef
from tests.images import scene

OPTIONS = FeatureOptions()


def decoded(rgb: np.ndarray, name: str = "x.png") -> Decoded:
    return Decoded(ItemRef(name, name, "image"), rgb, (rgb.shape[1], rgb.shape[0]))


def sift(gray: np.ndarray, count: int = 300):
    detector = cv2.SIFT_create(count)
    return detector.detectAndCompute(gray, None)


def test_mirrored_descriptors_match_those_computed_on_the_mirrored_image():
    gray = cv2.cvtColor(scene(5), cv2.COLOR_RGB2GRAY)
    keypoints, descriptors = sift(gray)
    points = np.array([(k.pt[0], k.pt[1], k.size, k.angle) for k in keypoints], np.float32)
    mirrored_points = mirror_keypoints(points, gray.shape[1])
    at_mirror = [cv2.KeyPoint(float(x), float(y), float(s), float(a)) for x, y, s, a in mirrored_points]
    _, direct = cv2.SIFT_create().compute(np.ascontiguousarray(gray[:, ::-1]), at_mirror)
    permuted = mirror_descriptors(descriptors.astype(np.uint8))
    error = np.abs(permuted.astype(float) - direct).sum() / np.abs(direct).sum()
    unpermuted = np.abs(descriptors.astype(float) - direct).sum() / np.abs(direct).sum()
    assert error < 0.3
    assert unpermuted > 2 * error


def test_text_mask_covers_labels_and_axes_but_not_a_photograph():
    figure = np.full((400, 600), 255, np.uint8)
    cv2.putText(figure, "250 kDa", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2, cv2.LINE_AA)
    cv2.line(figure, (100, 350), (580, 350), 0, 2)
    mask = text_mask(figure)
    assert mask[40:62, 25:120].mean() > 150  # the label
    assert mask[348:353, 150:550].mean() > 200  # the axis
    assert mask[150:300, 200:500].max() == 0  # empty paper

    photo = cv2.cvtColor(scene(3), cv2.COLOR_RGB2GRAY)
    assert (text_mask(photo) > 0).mean() < 0.05


def test_text_mask_keeps_blurred_cells():
    cells = np.full((300, 300), 10, np.uint8)
    for x, y in ((60, 60), (150, 200), (240, 90)):
        cv2.circle(cells, (x, y), 14, 220, -1)
    cells = cv2.GaussianBlur(cells, (0, 0), 4)
    assert text_mask(cells).max() == 0


def test_features_leave_out_keypoints_on_text():
    figure = np.full((500, 700, 3), 255, np.uint8)
    for row in range(6):
        cv2.putText(figure, "Signal 0.8 kDa", (20, 60 + 70 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    (features,) = extract(decoded(figure), OPTIONS)
    unmasked, _ = sift(normalise_contrast(cv2.cvtColor(figure, cv2.COLOR_RGB2GRAY)), 0)
    assert len(unmasked) > 200
    assert len(features.keypoints) < 0.1 * len(unmasked)
    assert features.check_content.mean() < 0.9


def test_faint_images_still_yield_keypoints():
    faint = (scene(8).astype(np.float32) * 0.1 + 100).astype(np.uint8)
    (features,) = extract(decoded(faint), OPTIONS)
    assert len(features.keypoints) > 200


def test_contrast_normalisation_stretches_a_faint_image():
    faint = (cv2.cvtColor(scene(8), cv2.COLOR_RGB2GRAY) * 0.1 + 100).astype(np.uint8)
    normalised = normalise_contrast(faint)
    assert np.ptp(faint) < 30
    # a bounded gain: three times at most, so that sensor noise is not lifted with the signal
    assert 3 * np.std(faint) <= np.std(normalised) <= 4 * np.std(faint)


def test_the_signature_of_a_rotated_copy_matches_under_the_right_view():
    image = scene(4)
    (original,) = extract(decoded(image), OPTIONS)
    (rotated,) = extract(decoded(np.ascontiguousarray(np.rot90(image))), OPTIONS)
    scores = rotated.signature @ original.signature[0]
    assert int(np.argmax(scores)) == 3  # three counter-clockwise quarter turns undo one
    assert scores.max() > 0.95


def figure_of(panels: list[np.ndarray]) -> np.ndarray:
    figure = np.full((700, 1000, 3), 255, np.uint8)
    for index, panel in enumerate(panels):
        top, left = 30 + 340 * (index // 2), 30 + 480 * (index % 2)
        figure[top : top + panel.shape[0], left : left + panel.shape[1]] = panel
        cv2.putText(figure, "ABCD"[index], (left - 25, top + 20), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    return figure


def test_split_panels_finds_picture_panels_in_reading_order():
    panels = [scene(seed, 440, 300) for seed in range(4)]
    gray = cv2.cvtColor(figure_of(panels), cv2.COLOR_RGB2GRAY)
    assert split_panels(gray, OPTIONS) == [
        (30, 30, 470, 330),
        (510, 30, 950, 330),
        (30, 370, 470, 670),
        (510, 370, 950, 670),
    ]


def test_split_panels_leaves_single_pictures_whole():
    assert split_panels(cv2.cvtColor(scene(1), cv2.COLOR_RGB2GRAY), OPTIONS) == []


def test_a_figure_yields_its_panels_as_units_named_after_it():
    figure = figure_of([scene(seed, 440, 300) for seed in range(2)])
    whole, *panels = extract(decoded(figure, "figs/fig2.png"), OPTIONS)
    assert whole.parent is None
    assert [p.name for p in panels] == ["figs/fig2.png#panel=1", "figs/fig2.png#panel=2"]
    assert [p.box for p in panels] == [(30, 30, 470, 330), (510, 30, 950, 330)]
    assert all(p.parent == "figs/fig2.png" for p in panels)


def test_split_panels_cuts_along_gutters_around_light_and_open_panels():
    from analysis.bench.dataset import blot, plot

    rng = np.random.default_rng(1)
    panels = [cv2.resize(picture, (440, 300)) for picture in (blot(rng, 600), plot(rng, 600), blot(rng, 600))]
    boxes = split_panels(cv2.cvtColor(figure_of([*panels, scene(4, 440, 300)]), cv2.COLOR_RGB2GRAY), OPTIONS)
    assert len(boxes) == 4
    # a plot's panel is its frame, without the tick labels outside it
    for box, (left, top) in zip(boxes, ((30, 30), (510, 30), (30, 370), (510, 370)), strict=True):
        assert left - 2 <= box[0] < box[2] <= left + 442 and top - 2 <= box[1] < box[3] <= top + 302


def tiled(panels: list[np.ndarray], columns: int, gutter: int, margin: int = 6) -> tuple[np.ndarray, list[tuple]]:
    """The panels in a grid on a white page, `gutter` px apart; the figure and each panel's box."""
    height, width = panels[0].shape[:2]
    rows = -(-len(panels) // columns)
    figure = np.full(
        (2 * margin + rows * height + (rows - 1) * gutter, 2 * margin + columns * width + (columns - 1) * gutter, 3),
        255,
        np.uint8,
    )
    boxes = []
    for index, panel in enumerate(panels):
        top = margin + (index // columns) * (height + gutter)
        left = margin + (index % columns) * (width + gutter)
        figure[top : top + height, left : left + width] = panel
        boxes.append((left, top, left + width, top + height))
    return figure, boxes


def test_split_panels_cuts_a_thin_gutter_between_micrographs_set_close():
    from analysis.bench.dataset import fluorescence

    rng = np.random.default_rng(4)
    panels = [cv2.resize(fluorescence(rng, 600), (300, 240)) for _ in range(6)]
    for gutter in (3, 12):
        figure, boxes = tiled(panels, 3, gutter)
        assert split_panels(cv2.cvtColor(figure, cv2.COLOR_RGB2GRAY), OPTIONS) == boxes


def test_split_panels_cuts_panels_that_run_to_the_figures_edges_with_or_without_jpeg():
    from analysis.bench.dataset import fluorescence

    rng = np.random.default_rng(7)
    panels = [cv2.resize(picture, (300, 240)) for picture in (fluorescence(rng, 600), scene(8), fluorescence(rng, 600))]
    figure, boxes = tiled(panels, 3, 14, margin=0)
    assert split_panels(cv2.cvtColor(figure, cv2.COLOR_RGB2GRAY), OPTIONS) == boxes
    encoded = cv2.imdecode(cv2.imencode(".jpg", figure, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], cv2.IMREAD_GRAYSCALE)
    found = split_panels(encoded, OPTIONS)
    assert len(found) == 3
    for box, (x0, y0, x1, y1) in zip(found, boxes, strict=True):
        assert x0 - 2 <= box[0] < box[2] <= x1 + 2 and y0 - 2 <= box[1] < box[3] <= y1 + 2


def framed(picture: np.ndarray, thickness: int = 2) -> np.ndarray:
    """The picture with a dark frame drawn over its edges, as figures frame their panels."""
    picture = picture.copy()
    height, width = picture.shape[:2]
    cv2.rectangle(picture, (0, 0), (width - 1, height - 1), (40, 40, 40), thickness, lineType=cv2.LINE_4)
    return picture


def jpeg(gray: np.ndarray, quality: int) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_GRAYSCALE)


def test_split_panels_cuts_framed_panels_set_edge_to_edge_or_closer_than_jpeg_leaves_a_gutter():
    from analysis.bench.dataset import bar_chart, blot, real_image

    rng = np.random.default_rng(8)
    pictures = [bar_chart(rng, 900), real_image("astronaut"), blot(rng, 900)]
    panels = [framed(cv2.resize(picture, (300, 240), interpolation=cv2.INTER_AREA)) for picture in pictures]
    for gutter, quality in ((0, 95), (3, 60)):
        figure, boxes = tiled(panels, 3, gutter)
        found = split_panels(jpeg(cv2.cvtColor(figure, cv2.COLOR_RGB2GRAY), quality), OPTIONS)
        assert len(found) == 3, (gutter, found)
        for box, (x0, y0, x1, y1) in zip(found, boxes, strict=True):
            assert x0 - 1 <= box[0] <= x0 + 1 and y0 - 1 <= box[1] <= y0 + 1, (gutter, box)
            assert x1 - 1 <= box[2] <= x1 + 1 and y1 - 1 <= box[3] <= y1 + 1, (gutter, box)


def test_a_plots_box_with_its_grid_and_a_rule_across_it_is_one_picture():
    plot = np.full((480, 640), 255, np.uint8)
    for y in range(60, 420, 60):
        cv2.line(plot, (40, y), (600, y), 200, 1)  # light grid lines right across the box
    for x in range(100, 600, 100):
        cv2.line(plot, (x, 20), (x, 440), 200, 1)
    cv2.line(plot, (40, 240), (600, 240), 0, 2)  # a dark rule at zero
    x = np.arange(50, 600, 5)
    curve = np.stack([x, 240 + 150 * np.sin(x / 90)], axis=1).astype(np.int32)
    cv2.polylines(plot, [curve], False, 60, 2)  # a thin curve crosses the grid lines at a few points only
    cv2.rectangle(plot, (40, 20), (600, 440), 0, 2)  # the axes' box
    # on its page, with its margins: not cut
    assert len(split_panels(plot, OPTIONS)) <= 1
    assert len(split_panels(jpeg(plot, 60), OPTIONS)) <= 1


def test_split_panels_keeps_blot_strips_as_panels():
    from analysis.bench.dataset import blot

    rng = np.random.default_rng(5)
    strips = [cv2.resize(blot(rng, 900, lanes=6), (360, 48)) for _ in range(4)]
    figure, boxes = tiled(strips, 2, 30, margin=20)
    found = split_panels(cv2.cvtColor(figure, cv2.COLOR_RGB2GRAY), OPTIONS)
    assert len(found) == 4
    for box, (x0, y0, x1, y1) in zip(found, boxes, strict=True):
        assert x0 - 2 <= box[0] < box[2] <= x1 + 2 and y0 - 2 <= box[1] < box[3] <= y1 + 2


def test_a_grid_of_charts_yields_each_chart_as_a_unit_and_one_chart_yields_none_of_its_parts():
    from analysis.bench.dataset import bar_chart

    rng = np.random.default_rng(6)
    charts = [cv2.resize(bar_chart(rng, 900), (440, 330), interpolation=cv2.INTER_AREA) for _ in range(4)]
    figure, _ = tiled(charts, 2, 20)
    whole, *panels = extract(decoded(figure, "charts.png"), OPTIONS)
    assert whole.chart and len(panels) == 4 and all(panel.chart for panel in panels)
    assert extract(decoded(bar_chart(rng, 900), "one.png"), OPTIONS)[1:] == []


def test_a_blots_lanes_and_a_fields_dark_gaps_are_not_gutters():
    from analysis.bench.dataset import blot, fluorescence

    rng = np.random.default_rng(2)
    for picture in (blot(rng, 900, lanes=4), fluorescence(rng, 700)):
        assert split_panels(cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY), OPTIONS) == []


def test_charts_and_schematics_are_recognised_and_pictures_are_not():
    from analysis.bench.dataset import bar_chart, blot, fluorescence, plot, real_image, schematic, with_scale_bar

    rng = np.random.default_rng(3)
    charts = [bar_chart(rng, 900), schematic(rng, 900), plot(rng, 900)]
    pictures = [
        with_scale_bar(fluorescence(rng, 700)),
        fluorescence(rng, 700, faint=True),
        blot(rng, 1000),
        blot(rng, 800, faint=True),
        real_image("astronaut"),
        scene(5),
    ]
    assert [extract(decoded(chart, "c.png"), OPTIONS)[0].chart for chart in charts] == [True] * 3
    assert [extract(decoded(picture, "p.png"), OPTIONS)[0].chart for picture in pictures] == [False] * 6
