import asyncio
import signal

from channels.routing import get_default_application
from django.core.management.base import BaseCommand

from analysis.wakeups import listen_for_wake_ups
from analysis.worker import start_runner


class Command(BaseCommand):
    help = "Run analyses taken from the database queue, woken by the channel layer; SIGTERM hands the current one back."

    def handle(self, *args, **options):
        runner = start_runner()
        self.stdout.write(f"worker {runner.name} waiting for analyses")
        asyncio.run(self._listen(runner))
        return f"worker {runner.name} stopped"

    async def _listen(self, runner) -> None:
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stopped.set)
        wake_ups = asyncio.create_task(listen_for_wake_ups(get_default_application()))
        await stopped.wait()
        wake_ups.cancel()
        await asyncio.to_thread(runner.hand_back)
