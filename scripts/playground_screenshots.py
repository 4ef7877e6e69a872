"""Screenshots of the playground, one per way, for the docs: docs/playground-<way>.png.

Serves the project with gunicorn on a fresh database (the development profile, where the
playground is on), and in Debian's chromium logs in through each way's panel, calls the
resource, takes a copy, logs out, replays the copy and tampers with it, logs in again (so
that the panes show a live credential beside the answers), then photographs the panel without
its sequence diagram, which has a file of its own. In the
plain-cookie way's panel, instead of tampering, it rewrites the number: becomes another user.

    python scripts/playground_screenshots.py
"""

import os
import sys
from pathlib import Path

# Run as a script, this file's directory is on the path, not the project it belongs to.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from testing.servers import BASE_DIR as ROOT
from testing.servers import demo_serving, server_environment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--disable-gpu", "--no-first-run", "--disable-background-networking"]
STEPS = ("resource", "copy", "logout", "replay", "tamper")
PLAIN_STEPS = ("resource", "copy", "logout", "replay")


def answered(panel, act) -> None:
    before = panel.locator(".answers li").count()
    act()
    panel.locator(".answers li").nth(before).wait_for()


def photograph_every_way(base_url: str, docs: Path) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(base_url + "/")
        for tab in page.locator("[role=tab]").all():
            way = tab.get_attribute("aria-controls").removeprefix("panel-")
            tab.click()
            panel = page.locator(f"#panel-{way}")
            plain = panel.get_attribute("data-kind") == "plain"
            login = panel.locator("form.login button[type=submit]")
            answered(panel, login.click)
            for step in PLAIN_STEPS if plain else STEPS:
                answered(panel, panel.locator(f"[data-action={step}]").click)
            answered(panel, login.click)
            if plain:
                answered(panel, panel.locator("form.forge button[type=submit]").click)
            else:
                panel.locator(".parts dl, .parts p").first.wait_for()
            page.wait_for_timeout(300)  # the panes follow the login's answer
            # The diagram has a file of its own (static/diagrams/, shown in the README): the
            # picture is of what the page shows beside it.
            panel.locator("figure.diagram").evaluate("figure => { figure.hidden = true; }")
            path = docs / f"playground-{way}.png"
            panel.screenshot(path=path)
            written.append(path)
        browser.close()
    return written


def main() -> None:
    env = {**server_environment(os.environ), "DATABASE_URL": "", "REDIS_URL": ""}
    with demo_serving(env, label="screenshots") as base_url:
        for path in photograph_every_way(base_url, ROOT / "docs"):
            print(f"Wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
