import asyncio

from channels.routing import get_default_application
from django.core.management.base import BaseCommand

from analysis.wakeups import listen_for_wake_ups
from analysis.worker import start_runner

GRACEFUL_SHUTDOWN_SECONDS = 5


class Command(BaseCommand):
    help = "Serve pages, static files and websockets on one port, and run the analyses in the same process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="leave the analyses to `manage.py analysis_worker` processes"
        )

    def handle(self, *args, **options):
        # uvicorn hands a request's body to the application chunk by chunk as it arrives, so that a body over the
        # limit is refused before it is read (middleware.RequestSizeLimit) and an accepted one is spooled to disk
        # by Django: the process's memory does not grow with uploads (daphne parsed whole bodies in memory)
        import uvicorn

        application = get_default_application()
        config = uvicorn.Config(
            application,
            host=options["host"],
            port=options["port"],
            lifespan="off",
            ws="websockets",
            log_level="info",
            # uvicorn would otherwise wait for ever on a request or a websocket's consumer that does not end
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(f"DeepChecker at {url}" + ("" if options["no_worker"] else " (analyses run here)"))
        asyncio.run(self._serve(uvicorn.Server(config), application, worker=not options["no_worker"]))
        return "stopped"

    async def _serve(self, server, application, worker: bool) -> None:
        runner = start_runner() if worker else None
        listener = asyncio.create_task(listen_for_wake_ups(application)) if worker else None
        try:
            await server.serve()  # until SIGINT or SIGTERM
        finally:
            if listener is not None:
                listener.cancel()
            if runner is not None:
                await asyncio.to_thread(runner.hand_back)
