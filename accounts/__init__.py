"""Users, the protected resource, login input and the registry of ways in."""
