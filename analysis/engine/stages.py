"""Names shared with the web pages, in a module that imports nothing heavy (no torch, no OpenCV)."""

STAGES = {
    "reading": "Reading files",
    "clip": "CLIP embeddings",
    "candidates": "Candidate search",
    "library": "Library search",
    "verifying": "SIFT verification",
    "grouping": "Grouping",
    "keeping": "Keeping in the library",
}
DUPLICATE = "duplicate"
SIMILAR = "similar"
FINDINGS = (DUPLICATE, SIMILAR)  # a pair with another verdict (none) is no finding
