"""Names shared with the web pages, in a module that imports nothing heavy (no torch, no OpenCV)."""

STAGES = {
    "reading": "Reading files",
    "weights": "Downloading CLIP weights",
    "clip": "CLIP embeddings",
    "candidates": "Candidate search",
    "verifying": "SIFT verification",
    "grouping": "Grouping",
}
DUPLICATE = "duplicate"
SIMILAR = "similar"
