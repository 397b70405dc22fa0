from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis.engine.embed import PRETRAINED_TAGS, ClipUnavailable, download_weights

AIR_GAPPED = (
    "on a machine without internet, copy the folder {cache} from a machine where this command ran "
    "(or point CLIP_CACHE_DIR at such a copy); see 'Air-gapped install' in the README"
)


class Command(BaseCommand):
    help = "Install CLIP weights into CLIP_CACHE_DIR once; analyses never download them."

    def add_arguments(self, parser):
        parser.add_argument(
            "models",
            nargs="*",
            help=f"models to fetch (default: {settings.CLIP_MODEL}); any of {', '.join(PRETRAINED_TAGS)}",
        )
        parser.add_argument("--all", action="store_true", help="fetch every supported model")
        parser.add_argument(
            "--if-reachable",
            action="store_true",
            help="without a connection say so and succeed (how `make run` calls it: analyses then skip CLIP)",
        )

    def handle(self, *args, **options):
        models = list(PRETRAINED_TAGS) if options["all"] else options["models"] or [settings.CLIP_MODEL]
        unknown = [model for model in models if model not in PRETRAINED_TAGS]
        if unknown:
            raise CommandError(f"unknown model '{unknown[0]}'; choose from {', '.join(PRETRAINED_TAGS)}")
        for model in models:
            try:
                path = download_weights(model, settings.CLIP_CACHE_DIR)
            except ClipUnavailable as exc:
                message = (
                    f"The {model} weights are not installed: {exc}; {AIR_GAPPED.format(cache=settings.CLIP_CACHE_DIR)}."
                )
                if options["if_reachable"]:
                    self.stdout.write(f"{message} Analyses rank pairs by local features alone until then.")
                    return
                raise CommandError(message) from exc
            self.stdout.write(f"{model} ({PRETRAINED_TAGS[model]}): {path}")
