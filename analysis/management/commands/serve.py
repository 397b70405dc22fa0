import asyncio
import sys

from channels.layers import get_channel_layer
from channels.routing import get_default_application
from channels.worker import Worker
from django.core.management.base import BaseCommand

from analysis.models import Run
from analysis.worker import ANALYSIS_CHANNEL, queue_message


class Command(BaseCommand):
    help = "Serve pages, static files and websockets on one port, and run the analyses in the same process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options):
        # imported here: daphne installs Twisted's asyncio reactor on import
        from daphne.access import AccessLogGenerator
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        # this process is the only worker: what a stopped server left running starts again
        waiting = [queue_message(pk) for pk in Run.requeue_interrupted()]
        application = get_default_application()
        layer = get_channel_layer()
        worker = Worker(application, [ANALYSIS_CHANNEL], layer)
        tasks = []

        def start_worker() -> None:
            loop = asyncio.get_event_loop()
            tasks.append(loop.create_task(worker.arun()))
            tasks.extend(loop.create_task(layer.send(ANALYSIS_CHANNEL, message)) for message in waiting)

        self.stdout.write(
            f"DeepChecker at http://{options['host']}:{options['port']}/ ({len(waiting)} analyses queued)"
        )
        Server(
            application,
            endpoints=build_endpoint_description_strings(host=options["host"], port=options["port"]),
            action_logger=AccessLogGenerator(sys.stdout),
            ready_callable=start_worker,
        ).run()
        return "stopped"
