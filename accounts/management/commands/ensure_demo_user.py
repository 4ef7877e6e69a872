"""Create the demo user, or reset it, so that `make run` always has someone to log in as."""

from django.core.management.base import BaseCommand

from accounts.services import demo_user_ensure


class Command(BaseCommand):
    help = (
        "Create or update the demo user; changes nothing when it is already as asked, so "
        "its sessions and tokens live on. It can also open the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password")
        parser.add_argument("--email", default="demo@example.com")

    def handle(self, *args, username, password, email, **options):
        user, outcome = demo_user_ensure(username=username, password=password, email=email)
        self.stdout.write(
            f"{outcome.capitalize()} demo user {user.username!r} (password {password!r})."
        )
