"""Session engines of the project: Django's, where an outage must not pass for a logout."""
