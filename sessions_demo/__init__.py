"""The four session ways: signed cookie, database, cache and cached database."""
