"""Input validation shared by every way's login, refresh, logout and password endpoints."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers instead of quietly turning them into strings."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def password_field() -> StrictCharField:
    # Long enough for any real password, short enough that hashing cannot be used to tie up CPU.
    return StrictCharField(max_length=4096, trim_whitespace=False)


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = password_field()


class RefreshTokenSerializer(serializers.Serializer):
    refresh = StrictCharField(max_length=4096)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = password_field()
    # Django's validators judge the new password: see accounts.services.password_change.
    new_password = password_field()
    end_other_sessions = serializers.BooleanField(default=True)


class SessionsEndSerializer(serializers.Serializer):
    """Which of the user's login sessions to end, with the password to prove it is them."""

    password = password_field()
    scope = serializers.ChoiceField(choices=["one", "others", "all"])
    id = StrictCharField(max_length=64, required=False, help_text='The one to end, for "one".')

    def validate(self, data):
        if data["scope"] == "one" and not data.get("id"):
            raise serializers.ValidationError({"id": ['Required when scope is "one".']})
        return data


class ReplaySerializer(serializers.Serializer):
    """Which kept copy of a credential to replay, and whether to tamper with it first."""

    copy = StrictCharField(max_length=64)
    tamper = serializers.BooleanField(default=False)


class CartItemSerializer(serializers.Serializer):
    item = StrictCharField(max_length=200)
