"""`manage.py live_demo --stream prices --symbols 20 --rate 200 --seconds 60`: a bounded synthetic price feed."""

import random
import time

from django.core.management.base import BaseCommand, CommandError

import live
from hub.errors import HubError


class Command(BaseCommand):
    help = "Publish a random walk of prices to a live stream for a while (watch it at /live/<stream>/)."

    def add_arguments(self, parser):
        parser.add_argument("--stream", default="prices")
        parser.add_argument("--symbols", type=int, default=20, help="keys, 1 to 1000")
        parser.add_argument("--rate", type=float, default=200.0, help="updates a second in all, up to 5000")
        parser.add_argument("--seconds", type=float, default=60.0, help="how long, up to 3600")

    def handle(self, *args, stream, symbols, rate, seconds, **options):
        if not (1 <= symbols <= 1000 and 0 < rate <= 5000 and 0 < seconds <= 3600):
            raise CommandError("--symbols 1..1000, --rate up to 5000 a second, --seconds up to 3600")
        names = [f"SYM{n:03d}" for n in range(symbols)]
        prices = {name: 100.0 for name in names}
        started = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                name = random.choice(names)
                prices[name] = max(0.01, prices[name] * (1 + random.gauss(0, 0.002)))
                bid = round(prices[name], 2)
                try:
                    live.publish(stream, name, {"bid": bid, "ask": round(bid + 0.02, 2)})
                except HubError as error:
                    raise CommandError(error.message) from None
                sent += 1
            time.sleep(min(0.01, max(0.0, (sent / rate) - (time.monotonic() - started))))
        self.stdout.write(f"{stream}: {sent} updates to {symbols} keys in {time.monotonic() - started:.1f} s")
