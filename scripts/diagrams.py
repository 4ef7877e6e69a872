"""Write static/diagrams/<way>.svg: a sequence diagram of each way, from a description of it.

Each way is described below, once, as what it really does in the stock profile: who takes
part (the browser or API client, the server, the stores the server keeps state in) and the
messages of four scenes: log in, call the resource, log out, and replay a copy of the
credential taken before the logout. The answer to each replay is declared as a status and a
refusal code, and the picture words it with the server's own reason (ways/refusals.py);
tests/test_diagrams.py sends every replay to the real endpoints and checks that answer, and
that the committed files are what this script writes. Adding a way's diagram is one entry
in DIAGRAMS.

    .venv/bin/python scripts/diagrams.py
"""

import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from ways.refusals import REASONS  # noqa: E402 - after the project is on the path

OUTPUT = BASE_DIR / "static" / "diagrams"


@dataclass(frozen=True)
class Participant:
    key: str
    name: str
    detail: str = ""


# A message from one participant to another, (sender, receiver, text); a sender that is its
# own receiver is a note of what it does on its own.
Step = tuple[str, str, str]


@dataclass(frozen=True)
class Replay:
    """A copy of a credential taken before logout, sent after it, and what the server answers."""

    request: str  # "METHOD /path/ ...": the test sends the copy there
    status: HTTPStatus
    code: str = ""  # the refusal code of a 401
    until: str = ""  # for a 200: what ends it at last
    steps: tuple[Step, ...] = ()  # what the server does with the copy before it answers

    def answer(self) -> str:
        if self.status == HTTPStatus.OK:
            return f"200, the resource: the copy still works until {self.until}"
        return f"{self.status.value} {self.code}: {REASONS[self.code]}"


@dataclass(frozen=True)
class Diagram:
    participants: tuple[Participant, ...]  # the client first, then the server, then stores
    login: tuple[Step, ...]
    request: tuple[Step, ...]
    logout: tuple[Step, ...]
    replays: tuple[Replay, ...]
    footer: str = ""  # what the managed profile changes; MANAGED unless set
    insecure: bool = False  # a way insecure on purpose: its diagram says so first


BROWSER = Participant("client", "Browser")
API_CLIENT = Participant("client", "API client", "a page's script or an app")
SERVER = Participant("server", "Django", "this project")
DATABASE_SESSIONS = Participant("database", "Database", "the django_session table")
SESSIONS_CACHE = Participant("cache", "Sessions cache", "Redis, or this process's memory")
TOKEN_ROWS = Participant("database", "Database", "outstanding and blacklisted tokens")

# What every session keeps, Django's session auth hash among it: a password change ends it.
SESSION_DATA = "the user's id and a hash of the password"
USER_LOADED = ("server", "server", "loads the user (one query) and checks the hash of the password")
TOKEN_CHECKED = (
    "server",
    "server",
    "checks the signature, exp, aud, iss, token type and way: no lookup; loads the user "
    "and checks the hash of the password",
)

DIAGRAMS: dict[str, Diagram] = {
    "cookie": Diagram(
        participants=(BROWSER, SERVER),
        login=(
            ("client", "server", "POST /api/cookie/auth/login/ {username, password}, X-CSRFToken"),
            ("server", "server", f"signs {SESSION_DATA} with SECRET_KEY; stores nothing"),
            (
                "server",
                "client",
                "200; Set-Cookie: cookie-sessionid=<data>:<timestamp>:<signature>; HttpOnly",
            ),
        ),
        request=(
            ("client", "server", "GET /api/cookie/resource/; Cookie: cookie-sessionid=…"),
            ("server", "server", "checks the signature and the age (SESSION_COOKIE_AGE)"),
            USER_LOADED,
            ("server", "client", "200, the resource"),
        ),
        logout=(
            ("client", "server", "POST /api/cookie/auth/logout/, X-CSRFToken"),
            ("server", "server", "has nothing to delete: it never stored the session"),
            ("server", "client", "200; Set-Cookie: cookie-sessionid expired, in this browser"),
        ),
        replays=(
            Replay(
                request="GET /api/cookie/resource/; Cookie: the copy of cookie-sessionid",
                steps=(("server", "server", "the signature and the age still check out"),),
                status=HTTPStatus.OK,
                until="SESSION_COOKIE_AGE runs out",
            ),
        ),
    ),
    "db": Diagram(
        participants=(BROWSER, SERVER, DATABASE_SESSIONS),
        login=(
            ("client", "server", "POST /api/db/auth/login/ {username, password}, X-CSRFToken"),
            ("server", "database", f"INSERT a row: a new random key → {SESSION_DATA}"),
            ("server", "client", "200; Set-Cookie: db-sessionid=<32 random characters>; HttpOnly"),
        ),
        request=(
            ("client", "server", "GET /api/db/resource/; Cookie: db-sessionid=…"),
            ("server", "database", "SELECT the unexpired row with this key"),
            ("database", "server", SESSION_DATA),
            USER_LOADED,
            ("server", "client", "200, the resource"),
        ),
        logout=(
            ("client", "server", "POST /api/db/auth/logout/, X-CSRFToken"),
            ("server", "database", "DELETE the row"),
            ("server", "client", "200; Set-Cookie: db-sessionid expired"),
        ),
        replays=(
            Replay(
                request="GET /api/db/resource/; Cookie: the copy of db-sessionid",
                steps=(
                    ("server", "database", "SELECT the unexpired row with this key"),
                    ("database", "server", "no row"),
                ),
                status=HTTPStatus.UNAUTHORIZED,
                code="session_not_found",
            ),
        ),
    ),
    "cache": Diagram(
        participants=(BROWSER, SERVER, SESSIONS_CACHE),
        login=(
            ("client", "server", "POST /api/cache/auth/login/ {username, password}, X-CSRFToken"),
            (
                "server",
                "cache",
                f"SET a new random key → {SESSION_DATA}, expiring after SESSION_COOKIE_AGE",
            ),
            (
                "server",
                "client",
                "200; Set-Cookie: cache-sessionid=<32 random characters>; HttpOnly",
            ),
        ),
        request=(
            ("client", "server", "GET /api/cache/resource/; Cookie: cache-sessionid=…"),
            ("server", "cache", "GET the key"),
            ("cache", "server", SESSION_DATA),
            USER_LOADED,
            ("server", "client", "200, the resource"),
        ),
        logout=(
            ("client", "server", "POST /api/cache/auth/logout/, X-CSRFToken"),
            ("server", "cache", "DELETE the key"),
            ("server", "client", "200; Set-Cookie: cache-sessionid expired"),
        ),
        replays=(
            Replay(
                request="GET /api/cache/resource/; Cookie: the copy of cache-sessionid",
                steps=(("server", "cache", "GET the key"), ("cache", "server", "nothing")),
                status=HTTPStatus.UNAUTHORIZED,
                code="session_not_found",
            ),
        ),
    ),
    "cached-db": Diagram(
        participants=(BROWSER, SERVER, SESSIONS_CACHE, DATABASE_SESSIONS),
        login=(
            (
                "client",
                "server",
                "POST /api/cached-db/auth/login/ {username, password}, X-CSRFToken",
            ),
            ("server", "database", f"INSERT a row: a new random key → {SESSION_DATA}"),
            ("server", "cache", "SET the same key → the same data"),
            (
                "server",
                "client",
                "200; Set-Cookie: cached-db-sessionid=<32 random characters>; HttpOnly",
            ),
        ),
        request=(
            ("client", "server", "GET /api/cached-db/resource/; Cookie: cached-db-sessionid=…"),
            ("server", "cache", "GET the key (the database is read only when it is missing)"),
            ("cache", "server", SESSION_DATA),
            USER_LOADED,
            ("server", "client", "200, the resource"),
        ),
        logout=(
            ("client", "server", "POST /api/cached-db/auth/logout/, X-CSRFToken"),
            ("server", "database", "DELETE the row"),
            ("server", "cache", "DELETE the key"),
            ("server", "client", "200; Set-Cookie: cached-db-sessionid expired"),
        ),
        replays=(
            Replay(
                request="GET /api/cached-db/resource/; Cookie: the copy of cached-db-sessionid",
                steps=(
                    ("server", "cache", "GET the key"),
                    ("cache", "server", "nothing"),
                    ("server", "database", "SELECT the unexpired row with this key"),
                    ("database", "server", "no row"),
                ),
                status=HTTPStatus.UNAUTHORIZED,
                code="session_not_found",
            ),
        ),
    ),
    "jwt": Diagram(
        participants=(API_CLIENT, SERVER, TOKEN_ROWS),
        login=(
            ("client", "server", "POST /api/jwt/auth/login/ {username, password}: JSON, no cookie"),
            ("server", "database", "INSERT an outstanding token: the refresh token's jti"),
            (
                "server",
                "client",
                "200 {access, refresh}: two signed JWTs, header.payload.signature, "
                "that the client keeps in memory",
            ),
        ),
        request=(
            ("client", "server", "GET /api/jwt/resource/; Authorization: Bearer <access>"),
            TOKEN_CHECKED,
            ("server", "client", "200, the resource"),
        ),
        logout=(
            ("client", "server", "POST /api/jwt/auth/logout/ {refresh}"),
            ("server", "database", "INSERT a blacklisted token: the refresh token's jti"),
            ("server", "client", "200; the client forgets both tokens: the server cannot"),
        ),
        replays=(
            Replay(
                request="GET /api/jwt/resource/; Authorization: Bearer <the copy of access>",
                steps=(("server", "server", "the signature and exp still check out"),),
                status=HTTPStatus.OK,
                until="the access token expires (JWT_ACCESS_LIFETIME)",
            ),
            Replay(
                request="POST /api/jwt/auth/refresh/ {refresh: the copy}",
                steps=(
                    ("server", "database", "is this jti blacklisted?"),
                    ("database", "server", "yes"),
                ),
                status=HTTPStatus.UNAUTHORIZED,
                code="token_revoked",
            ),
        ),
    ),
    "jwt-cookie": Diagram(
        participants=(BROWSER, SERVER, TOKEN_ROWS),
        login=(
            (
                "client",
                "server",
                "POST /api/jwt-cookie/auth/login/ {username, password}, X-CSRFToken",
            ),
            ("server", "database", "INSERT an outstanding token: the refresh token's jti"),
            (
                "server",
                "client",
                "200; Set-Cookie: jwt-access=<JWT>; HttpOnly and jwt-refresh=<JWT>; HttpOnly; "
                "Path=/api/jwt-cookie/auth/",
            ),
        ),
        request=(
            ("client", "server", "GET /api/jwt-cookie/resource/; Cookie: jwt-access=…"),
            TOKEN_CHECKED,
            ("server", "client", "200, the resource"),
        ),
        logout=(
            (
                "client",
                "server",
                "POST /api/jwt-cookie/auth/logout/, X-CSRFToken; Cookie: jwt-refresh=…",
            ),
            ("server", "database", "INSERT a blacklisted token: the refresh token's jti"),
            ("server", "client", "200; Set-Cookie: both cookies expired"),
        ),
        replays=(
            Replay(
                request="GET /api/jwt-cookie/resource/; Cookie: the copy of jwt-access",
                steps=(("server", "server", "the signature and exp still check out"),),
                status=HTTPStatus.OK,
                until="the access token expires (JWT_ACCESS_LIFETIME)",
            ),
            Replay(
                request="POST /api/jwt-cookie/auth/refresh/; Cookie: the copy of jwt-refresh",
                steps=(
                    ("server", "database", "is this jti blacklisted?"),
                    ("database", "server", "yes"),
                ),
                status=HTTPStatus.UNAUTHORIZED,
                code="token_revoked",
            ),
        ),
    ),
    "plain-cookie": Diagram(
        participants=(BROWSER, SERVER),
        login=(
            (
                "client",
                "server",
                "POST /api/plain-cookie/auth/login/ {username, password}, X-CSRFToken",
            ),
            ("server", "server", "checks the password; stores nothing, signs nothing"),
            ("server", "client", "200; Set-Cookie: user_id=1 (not HttpOnly, not signed)"),
        ),
        request=(
            ("client", "server", "GET /api/plain-cookie/resource/; Cookie: user_id=1"),
            ("server", "server", "believes the number: loads user 1 (one query)"),
            ("server", "client", "200, the resource, as user 1"),
            ("client", "client", "anyone rewrites the cookie: user_id=2"),
            ("client", "server", "GET /api/plain-cookie/resource/; Cookie: user_id=2"),
            ("server", "client", "200, the resource, as user 2: no password asked"),
        ),
        logout=(
            ("client", "server", "POST /api/plain-cookie/auth/logout/, X-CSRFToken"),
            ("server", "server", "has nothing to end: it never recorded the login"),
            ("server", "client", "200; Set-Cookie: user_id expired, in this browser"),
        ),
        replays=(
            Replay(
                request="GET /api/plain-cookie/resource/; Cookie: the copy of user_id",
                steps=(("server", "server", "believes the number, as before"),),
                status=HTTPStatus.OK,
                until="the account is deactivated or deleted",
            ),
        ),
        footer=(
            "Served with DEBUG only (PLAIN_COOKIE_WAY), never in production; the managed "
            "profile changes nothing here: the cookie names no login session to end."
        ),
        insecure=True,
    ),
}

MANAGED = (
    "In the managed profile (SESSION_POLICY=managed) every copy taken before logout is "
    f"refused at once: 401 session_ended: {REASONS['session_ended']}"
)


# --- Drawing ---------------------------------------------------------------------------------

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
FONT_SIZE = 13
# A generous average width of a character: the SVG is drawn without measuring text, so
# labels are wrapped to the room they have by this estimate.
CHAR_WIDTH = 7.0
LINE = 17
COLUMN = 300  # from one lifeline to the next
MARGIN = 20
INK, MUTED, LIFELINE = "#1b1f24", "#57606a", "#8c959f"
# A copy that still works is the warning; one refused is what logout should mean.
ANSWER_INK = {HTTPStatus.OK: "#9a4b00", HTTPStatus.UNAUTHORIZED: "#b3261e"}
SCENES = (
    ("login", "1. Log in"),
    ("request", "2. Call the resource"),
    ("logout", "3. Log out"),
    ("replays", "4. Replay a copy of the credential taken before the logout"),
)


class Canvas:
    """An SVG drawn top to bottom: each draw call moves the pen down by what it used."""

    def __init__(self, participants: tuple[Participant, ...]):
        self.columns = {
            participant.key: MARGIN + COLUMN // 2 + index * COLUMN
            for index, participant in enumerate(participants)
        }
        self.width = 2 * MARGIN + COLUMN * len(participants)
        self.y = MARGIN
        self.back, self.lines, self.front = (ET.Element("g") for _ in range(3))

    def text(self, x, y, lines, *, anchor="middle", ink=INK, bold=False, size=FONT_SIZE):
        element = ET.SubElement(
            self.front, "text", x=str(x), y=str(y), fill=ink, **{"text-anchor": anchor}
        )
        element.set("font-size", str(size))
        if bold:
            element.set("font-weight", "bold")
        for index, line in enumerate(lines):
            span = ET.SubElement(element, "tspan", x=str(x), y=str(y + index * LINE))
            span.text = line

    def title(self, text: str) -> None:
        lines = wrap(text, self.width - 2 * MARGIN, size=15, bold=True)
        self.text(MARGIN, self.y + FONT_SIZE, lines, anchor="start", bold=True, size=15)
        self.y += len(lines) * LINE + 14

    def heads(self, participants: tuple[Participant, ...]) -> None:
        height = 2 * LINE + 14
        for participant in participants:
            x = self.columns[participant.key]
            ET.SubElement(
                self.front,
                "rect",
                x=str(x - COLUMN // 2 + 20),
                y=str(self.y),
                width=str(COLUMN - 40),
                height=str(height),
                rx="6",
                fill="#f6f8fa",
                stroke=INK,
            )
            self.text(x, self.y + LINE, [participant.name], bold=True)
            self.text(x, self.y + 2 * LINE, [participant.detail], ink=MUTED, size=12)
        self.top = self.y + height
        self.y += height + 10

    def scene(self, heading: str) -> None:
        band = {"x": "0", "y": str(self.y), "width": str(self.width), "height": "26"}
        ET.SubElement(self.back, "rect", band, fill="#eaeef2")
        self.text(MARGIN, self.y + 18, [heading], anchor="start", bold=True)
        self.y += 26 + 8

    def step(self, sender: str, receiver: str, text: str, *, ink: str = INK) -> None:
        if sender == receiver:
            self.note(sender, text)
        else:
            self.message(sender, receiver, text, ink=ink)

    def message(self, sender: str, receiver: str, text: str, *, ink: str) -> None:
        start, end = self.columns[sender], self.columns[receiver]
        lines = wrap(text, abs(end - start) - 16)
        self.text((start + end) // 2, self.y + FONT_SIZE, lines, ink=ink)
        arrow_y = self.y + len(lines) * LINE + 4
        line = ET.SubElement(
            self.front, "line", x1=str(start), y1=str(arrow_y), x2=str(end), y2=str(arrow_y)
        )
        line.set("stroke", ink)
        line.set("stroke-width", "1.5")
        if end < start:  # an answer goes back dashed
            line.set("stroke-dasharray", "6 4")
        tip = 8 if end > start else -8
        head = f"{end},{arrow_y} {end - tip},{arrow_y - 4} {end - tip},{arrow_y + 4}"
        ET.SubElement(self.front, "polygon", points=head, fill=ink)
        self.y = arrow_y + 12

    def note(self, key: str, text: str) -> None:
        x, width = self.columns[key], COLUMN - 30
        lines = wrap(text, width - 16)
        height = len(lines) * LINE + 8
        ET.SubElement(
            self.front,
            "rect",
            x=str(x - width // 2),
            y=str(self.y),
            width=str(width),
            height=str(height),
            fill="#fff8c5",
            stroke="#d4a72c",
        )
        self.text(x, self.y + FONT_SIZE + 3, lines)
        self.y += height + 10

    def footer(self, text: str) -> None:
        lines = wrap(text, self.width - 2 * MARGIN, size=12)
        self.bottom = self.y
        self.y += 6
        self.text(MARGIN, self.y + FONT_SIZE, lines, anchor="start", ink=MUTED, size=12)
        self.y += len(lines) * LINE + MARGIN

    def svg(self, label: str) -> str:
        for x in self.columns.values():
            lifeline = ET.SubElement(
                self.lines, "line", x1=str(x), y1=str(self.top), x2=str(x), y2=str(self.bottom)
            )
            lifeline.set("stroke", LIFELINE)
            lifeline.set("stroke-dasharray", "3 3")
        root = ET.Element(
            "svg",
            xmlns="http://www.w3.org/2000/svg",
            width=str(self.width),
            height=str(self.y),
            viewBox=f"0 0 {self.width} {self.y}",
            role="img",
        )
        root.set("font-family", FONT)
        root.set("font-size", str(FONT_SIZE))
        ET.SubElement(root, "title").text = label
        # Opaque: readable on a dark page too.
        ET.SubElement(root, "rect", width="100%", height="100%", fill="#ffffff")
        root.extend([self.back, self.lines, self.front])
        ET.indent(root)
        return ET.tostring(root, encoding="unicode") + "\n"


def wrap(text: str, pixels: float, *, size: int = FONT_SIZE, bold: bool = False) -> list[str]:
    """The text in lines that fit the pixels, by the estimated width of a character."""
    character = CHAR_WIDTH * size / FONT_SIZE * (1.1 if bold else 1)
    return textwrap.wrap(text, width=int(pixels // character), break_on_hyphens=False)


def svg(name: str, diagram: Diagram) -> str:
    """The sequence diagram of one way, as the text of an SVG file."""
    label = (
        f"The {name} way in the stock profile: log in, call the resource, log out, and replay "
        "a copy of the credential taken before the logout"
    )
    if diagram.insecure:
        label = f"INSECURE ON PURPOSE. {label}"
    canvas = Canvas(diagram.participants)
    canvas.title(label)
    canvas.heads(diagram.participants)
    for scene, heading in SCENES:
        canvas.scene(heading)
        if scene != "replays":
            for step in getattr(diagram, scene):
                canvas.step(*step)
            continue
        for replay in diagram.replays:
            canvas.step("client", "server", replay.request)
            for step in replay.steps:
                canvas.step(*step)
            canvas.step("server", "client", replay.answer(), ink=ANSWER_INK[replay.status])
    canvas.footer(diagram.footer or MANAGED)
    return canvas.svg(label)


def main() -> int:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, diagram in DIAGRAMS.items():
        (OUTPUT / f"{name}.svg").write_text(svg(name, diagram))
    print(f"{OUTPUT.relative_to(BASE_DIR)}: {len(DIAGRAMS)} diagrams")
    return 0


if __name__ == "__main__":
    sys.exit(main())
