"""Seed many sessions and refresh tokens, fast and recognisably, to measure the ways at scale."""

from django.core.management.base import BaseCommand, CommandError

from benchmarks.seeding import SEED_USERNAME, SEED_WAYS, seed, seed_clear


class Command(BaseCommand):
    help = (
        f"Seed COUNT sessions or refresh tokens per way, all of them the {SEED_USERNAME!r} "
        "user's: django_session rows (db, cached-db), Redis keys (cache, and cached-db's "
        "copies, when REDIS_URL is set), outstanding and blacklisted tokens (jwt, for both "
        "token ways). --clear removes what seeding wrote, and nothing else."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000, help="rows or keys per way")
        parser.add_argument(
            "--expired-fraction",
            type=float,
            default=0.5,
            help="share of the rows already expired (Redis keeps no expired keys: the cache "
            "way's keys are all live)",
        )
        parser.add_argument(
            "--blacklisted-fraction",
            type=float,
            default=0.1,
            help="share of the expired tokens, and of the live ones, also blacklisted",
        )
        parser.add_argument("--way", choices=[*SEED_WAYS, "all"], default="all")
        parser.add_argument(
            "--clear", action="store_true", help="remove every seeded row and key, then stop"
        )

    def handle(self, *args, count, expired_fraction, blacklisted_fraction, way, clear, **options):
        if clear:
            removed = seed_clear()
            user = " and the seed user" if removed.pop("users") else ""
            counts = (f"{number} {name.replace('_', ' ')}" for name, number in removed.items())
            self.stdout.write(f"Removed {', '.join(counts)}{user}.")
            return
        if count < 0 or not 0 <= expired_fraction <= 1 or not 0 <= blacklisted_fraction <= 1:
            raise CommandError("--count must not be negative, nor a fraction outside 0..1.")
        for name in SEED_WAYS if way == "all" else [way]:
            seeded = seed(
                way=name,
                count=count,
                expired_fraction=expired_fraction,
                blacklisted_fraction=blacklisted_fraction,
                bar=bool(options["verbosity"]),
            )
            if seeded.skipped:
                self.stdout.write(f"{name}: nothing seeded: {seeded.skipped}.")
                continue
            extra = f", {seeded.blacklisted} blacklisted" if seeded.blacklisted is not None else ""
            self.stdout.write(
                f"{name}: {seeded.written} {seeded.unit} ({seeded.expired} expired{extra}) "
                f"in {seeded.seconds:.1f} s."
            )
