"""The managed profile's registry of login sessions: every login, through every way."""
