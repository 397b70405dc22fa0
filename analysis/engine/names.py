"""How the parts of a file are named in results: paper.pdf#page=3&image=1, fig.png#panel=2.

Torch-free and light, for the web process too.
"""


def panel_name(name: str, number: int) -> str:
    """A figure's picture panel, numbered from 1 in reading order."""
    return f"{name}{'&' if '#' in name else '#'}panel={number}"


def embedding_page(name: str) -> str | None:
    """The PDF page an embedded image is drawn on (paper.pdf#page=3&image=1 -> paper.pdf#page=3); None for
    anything else. The page's rendering and the image are one picture."""
    page, found, _ = name.rpartition("&image=")
    return page if found and "#page=" in page else None


def library_name(name: str) -> str:
    """A picture kept in a library from an earlier run: not one of this run's files, and named so."""
    return f"library:{name}"
