"""The sequence diagrams: one per way, as committed, and true to what each way answers."""

import re
from http import HTTPStatus
from pathlib import Path

import pytest

from scripts.diagrams import DIAGRAMS, OUTPUT, svg
from ways.registry import DEMONSTRATION_WAYS, PLAIN_COOKIE, VERBS, WAYS

from helpers import WayClient

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_way_has_a_diagram_and_every_diagram_a_way():
    assert set(DIAGRAMS) == {way.name for way in WAYS + DEMONSTRATION_WAYS}


def test_the_committed_diagrams_are_what_the_generator_writes():
    # When a description changes: .venv/bin/python scripts/diagrams.py
    assert {path.name: path.read_text() for path in OUTPUT.glob("*.svg")} == {
        f"{name}.svg": svg(name, diagram) for name, diagram in DIAGRAMS.items()
    }


def test_the_readme_shows_every_diagram():
    for name in DIAGRAMS:
        assert f'src="static/diagrams/{name}.svg"' in README


def texts(diagram) -> list[str]:
    steps = [*diagram.login, *diagram.request, *diagram.logout]
    steps += [step for replay in diagram.replays for step in replay.steps]
    return [text for _, _, text in steps] + [replay.request for replay in diagram.replays]


@pytest.mark.parametrize("way", [*WAYS, *DEMONSTRATION_WAYS], ids=lambda way: way.name)
def test_every_path_a_diagram_names_is_an_endpoint_of_its_way(way):
    endpoints = {way.path(verb) for verb in VERBS} - {None}

    # Every path but a cookie's Path= attribute.
    named = {
        path for text in texts(DIAGRAMS[way.name]) for path in re.findall(r"(?<!=)/api/\S+/", text)
    }

    assert named
    assert named - endpoints == set()


def test_a_copy_taken_before_logout_gets_the_answer_its_diagram_shows(logged_in, session_policy):
    way = logged_in.way
    # A thief's copy of everything the client holds: the credential, and a refresh token.
    thief = logged_in.replaying(logged_in.credential)
    if way.kind == "token" and logged_in.uses_cookies:
        thief.client.cookies["jwt-refresh"] = logged_in.client.cookies["jwt-refresh"].value

    assert logged_in.logout().status_code == HTTPStatus.OK

    for replay in DIAGRAMS[way.name].replays:
        method, path = re.match(r"(GET|POST) (/\S+/)", replay.request).groups()
        verb = next(verb for verb in ("resource", "refresh") if way.path(verb) == path)
        assert method == ("GET" if verb == "resource" else "POST")
        answer = getattr(thief, verb)()
        # The diagrams draw the stock profile, and say that the managed one ends every copy.
        if session_policy == "managed":
            expected = (HTTPStatus.UNAUTHORIZED, "session_ended")
        else:
            expected = (replay.status, replay.code or None)
        assert (answer.status_code, answer.json().get("code")) == expected, replay.request


def test_the_plain_cookie_diagram_s_replay_is_what_the_server_answers(
    user, settings, session_policy
):
    settings.PLAIN_COOKIE_WAY = True
    client = WayClient(PLAIN_COOKIE)
    assert client.login().status_code == HTTPStatus.OK
    thief = client.replaying(client.credential)
    assert client.logout().status_code == HTTPStatus.OK

    (replay,) = DIAGRAMS[PLAIN_COOKIE.name].replays
    assert replay.status == HTTPStatus.OK
    assert thief.resource().status_code == HTTPStatus.OK  # in either profile: nothing to end
