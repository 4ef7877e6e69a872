"""The project's user model, custom from the first migration so it can grow later."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A Django user; every way in authenticates one of these."""
