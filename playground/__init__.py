"""The playground: what a browser holds and what the server keeps, per way, for the landing page."""
