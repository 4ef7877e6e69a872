"""The two token ways: SimpleJWT tokens in an Authorization header and in HttpOnly cookies."""
