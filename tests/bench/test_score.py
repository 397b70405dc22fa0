from analysis.bench.score import one_picture


def test_a_pdf_page_and_its_embedded_image_are_one_picture_to_the_score():
    names = ["copy.png", "paper.pdf#page=1", "paper.pdf#page=1&image=1", "other.png"]
    # the engine lists the copy once, through the embedded image: the page is found as well
    assert one_picture({(0, 2)}, names) == {(0, 2), (0, 1)}
    assert one_picture({(0, 1)}, names) == {(0, 1), (0, 2)}
    assert one_picture({(0, 3)}, names) == {(0, 3)}
