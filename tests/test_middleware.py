"""The session ways' middleware: Django's own process_response, under each way's cookie name."""

import hashlib
import inspect
from http import HTTPStatus

from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client

from helpers import WayClient, way_named

# The digest of the process_response that sessions_demo.middleware.site_wide_name() was
# written against (Django 5.2 through 6.1 have the same). When Django changes it, re-read
# it: if it reads or writes a setting or a cookie other than SESSION_COOKIE_NAME, the way
# middleware must stand in for that too. Then put the new digest here.
PROCESS_RESPONSE_READ = "fbaf5503c20d7dd09b0917969f49541a469fb48ca8f7867d97da879e9ca9bf79"


def test_djangos_process_response_is_the_one_the_way_middleware_stands_in_for():
    source = inspect.getsource(SessionMiddleware.process_response)

    assert hashlib.sha256(source.encode()).hexdigest() == PROCESS_RESPONSE_READ


def test_a_way_sets_and_deletes_its_own_cookie_and_leaves_the_site_wide_one(admin_user, user):
    browser = WayClient(way_named("db"))
    admin = Client()
    admin.force_login(admin_user)
    browser.client.cookies["sessionid"] = admin.cookies["sessionid"].value

    login = browser.login()
    logout = browser.logout()

    assert login.status_code == logout.status_code == HTTPStatus.OK
    assert login.cookies["db-sessionid"].value
    assert logout.cookies["db-sessionid"].value == ""  # deleted, under its own name
    assert "sessionid" not in login.cookies
    assert "sessionid" not in logout.cookies
    # The admin's session, in the same browser, is untouched.
    admin.cookies["sessionid"] = browser.client.cookies["sessionid"].value
    assert admin.get("/admin/").status_code == HTTPStatus.OK
