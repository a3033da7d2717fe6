"""Seed the deterministic demo bank. The work is in org.demo; this only reads arguments."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from org.demo import DEMO_PASSWORD, DemoBankExists, DemoLogin, seed_demo
from org.models import User


def _as_of(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Create the demo bank: teams, RMs, accounts with 36 months of positions, activities "
        "and a pipeline, and the plan year of --as-of with its targets and plans in every "
        "state. The same --seed and --as-of always give the same bank."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply teams, RMs and accounts (1: 3 teams, 30 RMs, ~1,500 accounts).",
        )
        parser.add_argument(
            "--as-of",
            type=str,
            default=None,
            help="The bank as it stands on this day, YYYY-MM-DD (default: today).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--reset",
            action="store_true",
            help="Delete all people, teams, accounts and reference data first.",
        )
        group.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users (for `make run`).",
        )

    def handle(self, *args, scale, as_of, seed, reset, if_empty, **options):
        if scale < 1:
            raise CommandError(f"--scale must be 1 or more, not {scale}")
        as_of = _as_of(as_of) if as_of else timezone.localdate()
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users; not seeding the demo bank.")
            return

        self.stdout.write(f"Seeding the demo bank as of {as_of} (scale {scale}, seed {seed})...")
        try:
            summary = seed_demo(scale=scale, as_of=as_of, seed=seed, reset=reset)
        except DemoBankExists as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(
            self.style.SUCCESS(f"Demo bank seeded in {summary.elapsed_seconds:.1f} s.")
        )
        for label, count in summary.counts().items():
            self.stdout.write(f"  {label:<18} {count:>10,}")
        if summary.plan_year:
            self.stdout.write(f"  {'plan year':<18} {'FY ' + str(summary.plan_year):>10}")
        self.stdout.write("")
        self._logins(summary.logins)
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                f"Every demo user's password is '{DEMO_PASSWORD}'. "
                "These logins are for the demo only: never seed them into a real bank."
            )
        )

    def _logins(self, logins: tuple[DemoLogin, ...]) -> None:
        """One line per login, except that a team's RMs share a line (rm1-rm10)."""
        lines: list[tuple[str, str, str]] = []
        run: list[DemoLogin] = []

        def flush():
            if run:
                names = (
                    run[0].username if len(run) == 1 else f"{run[0].username}-{run[-1].username}"
                )
                lines.append((names, run[0].role, run[0].team))
                run.clear()

        for login in logins:
            if login.username.startswith("rm") and (not run or run[0].team == login.team):
                run.append(login)
                continue
            flush()
            if login.username.startswith("rm"):
                run.append(login)
            else:
                lines.append((login.username, login.role, login.team))
        flush()

        header = ("username", "role", "team")
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(3)]
        for row in [header, tuple("-" * w for w in widths), *lines]:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
