import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis.engine.library import Library
from analysis.engine.pipeline import find_duplicates
from analysis.engine.report import write_csv
from analysis.engine.sources import collect_files
from analysis.engine.stages import DUPLICATE, SIMILAR, STAGES
from analysis.results import engine_options


class StageProgress:
    """One progress bar per stage on stderr; redrawn in place on a terminal, one line per stage otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.live = stream.isatty()
        self.stage = None
        self.started = 0.0
        self.line = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.finish()
            self.stage, self.started = stage, time.perf_counter()
        width = 30
        filled = width * done // total if total else width
        self.line = f"{STAGES[stage]:<26} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.live:
            self.stream.write("\r" + self.line)
            self.stream.flush()

    def finish(self) -> None:
        if self.stage is None:
            return
        elapsed = time.perf_counter() - self.started
        self.stream.write(("\r" if self.live else "") + f"{self.line}  {elapsed:.1f} s\n")
        self.stream.flush()
        self.stage = None


class Command(BaseCommand):
    help = "Find duplicated and near-duplicated images in image files, PDFs and folders, and write a CSV of pairs."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="image files, PDFs, or folders to search")
        parser.add_argument("--csv", required=True, type=Path, help="where to write the pairs")
        parser.add_argument("--model", default=settings.CLIP_MODEL, help="CLIP model: ViT-B-32, ViT-B-16 or ViT-L-14")
        parser.add_argument("--weights", help="a local CLIP weights file (default: the site's, for its model)")
        parser.add_argument("--no-clip", action="store_true", help="skip the semantic ranking")
        parser.add_argument(
            "--top", type=int, default=50, help="pairs without a verdict to add to the CSV (default 50)"
        )
        parser.add_argument("--workers", type=int, help="reading processes (default: the site's ENGINE_WORKERS)")
        parser.add_argument("--library", type=Path, help="a library folder: also check against the pictures kept there")
        parser.add_argument("--keep", action="store_true", help="keep these pictures in the library (needs --library)")

    def handle(self, *args, **options):
        if options["keep"] and not options["library"]:
            raise CommandError("--keep needs --library: the folder to keep the pictures in")
        library = Library(options["library"]) if options["library"] else None
        files, missing = collect_files(options["paths"])
        for lost in missing:
            self.stderr.write(f"{lost.name}: {lost.reason}")
        if not files:
            raise CommandError("nothing to analyse: none of the paths holds a file")
        given = {"clip_weights": options["weights"], "workers": options["workers"]}
        engine = engine_options(
            options["model"], use_clip=not options["no_clip"], **{k: v for k, v in given.items() if v is not None}
        )
        progress = StageProgress(sys.stderr)
        result = find_duplicates(files, engine, progress, library=library)
        progress.finish()
        if not result.items:
            reasons = "; ".join(f"{s.name}: {s.reason}" for s in result.skipped[:5])
            raise CommandError(f"none of the {len(files)} files could be read ({reasons})")
        with options["csv"].open("w", newline="") as out:
            rows = write_csv(result, out, options["top"])

        duplicates = sum(p.verdict == DUPLICATE for p in result.pairs)
        similar = sum(p.verdict == SIMILAR for p in result.pairs)
        out = self.stdout
        out.write(f"items: {len(result.own_items)} from {len(files)} files, {len(result.skipped)} skipped")
        for skipped in result.skipped:
            out.write(f"  skipped {skipped.name}: {skipped.reason}")
        if result.clip_notice:
            out.write(result.clip_notice)
        out.write(f"pairs verified: {len(result.pairs)}")
        out.write(f"duplicates: {duplicates}, similar: {similar}, groups: {len(result.groups)}")
        for number, group in enumerate(result.groups, start=1):
            out.write(f"  group {number}: " + ", ".join(result.place_name(place) for place in group))
        out.write("seconds: " + ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in result.timings.items()))
        if options["keep"]:
            for entry in result.kept:
                entry.key = uuid.uuid4().hex
            library.add(result.kept)
            out.write(f"kept {len(result.kept)} pictures in {options['library']}, which holds {library.size}")
        return f"wrote {rows} pairs to {options['csv']}"
