import asyncio
import sys

from channels.routing import get_default_application
from django.core.management.base import BaseCommand

from analysis.worker import listen_for_wake_ups, start_runner


class Command(BaseCommand):
    help = "Serve pages, static files and websockets on one port, and run the analyses in the same process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="leave the analyses to `manage.py analysis_worker` processes"
        )

    def handle(self, *args, **options):
        # imported here: daphne installs Twisted's asyncio reactor on import
        from daphne.access import AccessLogGenerator
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import reactor

        application = get_default_application()
        tasks = []

        def start_worker() -> None:
            runner = start_runner()
            # stopping the server hands the run in progress back to the queue
            reactor.addSystemEventTrigger("before", "shutdown", lambda: (runner.stop(), runner.join(10)))
            tasks.append(asyncio.get_event_loop().create_task(listen_for_wake_ups(application)))

        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(f"DeepChecker at {url}" + ("" if options["no_worker"] else " (analyses run here)"))
        Server(
            application,
            endpoints=build_endpoint_description_strings(host=options["host"], port=options["port"]),
            action_logger=AccessLogGenerator(sys.stdout),
            ready_callable=None if options["no_worker"] else start_worker,
        ).run()
        return "stopped"
