"""Connect Four in Chromium: two people play to a win while a third watches; a move out of turn is refused;
a player whose network is gone for 10 s is back in the same game and plays on; the lobby shows the result."""

import pytest
from playwright.sync_api import expect

from games.models import Game
from hub.testing.proxy import CuttableProxy
from hub.testing.servers import free_port
from tests.browser import BROWSER_PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def column(page, number):
    return page.locator(f'#game-board .game-cell[data-row="0"][data-column="{number}"]')


def test_two_play_to_a_win_while_a_third_watches_and_a_cut_network_is_survived(new_page, hub_server, make_user):
    for name in ("ann", "bob", "cat"):
        make_user(name, password=BROWSER_PASSWORD)
    proxy = CuttableProxy(free_port(), "127.0.0.1", hub_server.port).start()
    try:
        via_proxy = f"http://127.0.0.1:{proxy.listen_port}"  # Bob's network, which the test cuts
        ann = login(new_page(), hub_server.url, "ann")
        bob = login(new_page(), via_proxy, "bob")
        cat = login(new_page(), hub_server.url, "cat")
        bob.goto(f"{via_proxy}/games/")
        expect(bob.locator("#games-state")).to_have_text("Live")
        ann.goto(f"{hub_server.url}/games/")
        ann.fill("#game-opponent", "bob")
        ann.click("#game-invite button[type=submit]")
        ann.wait_for_url(f"{hub_server.url}/games/*/")
        game = Game.objects.get()
        expect(ann.locator("#game-status")).to_have_text("Your turn")
        # Bob's lobby hears of the invitation; he follows it.
        expect(bob.locator("#games-state")).to_have_text("ann invited you to a game")
        bob.click(f'#game-list li[data-id="{game.pk}"] a')
        expect(bob.locator("#game-status")).to_have_text("ann to move")
        cat.goto(f"{hub_server.url}/games/{game.pk}/")
        expect(cat.locator("#game-status")).to_have_text("ann to move")
        expect(column(cat, 0)).to_be_disabled()  # a spectator cannot play
        # Out of turn: refused, with the server's reason.
        column(bob, 0).click()
        expect(bob.locator("#game-error")).to_have_text("It is not your turn.")
        for page, number in ((ann, 0), (bob, 1), (ann, 0), (bob, 1)):
            column(page, number).click()
        expect(cat.locator('#game-board .game-cell[data-owner="first"]')).to_have_count(2)
        expect(cat.locator('#game-board .game-cell[data-owner="second"]')).to_have_count(2)
        # Bob's network goes for 10 s; Ann moves meanwhile; he is back in the same game and plays on.
        proxy.cut()
        expect(bob.locator("#hub-status")).not_to_have_text("Connected")
        column(ann, 0).click()
        expect(ann.locator("#game-status")).to_have_text("bob to move")
        bob.wait_for_timeout(10_000)
        proxy.restore()
        expect(bob.locator("#hub-status")).to_have_text("Connected", timeout=30_000)
        expect(bob.locator("#game-status")).to_have_text("Your turn")
        expect(bob.locator('#game-board .game-cell[data-owner="first"]')).to_have_count(3)
        column(bob, 1).click()
        expect(ann.locator("#game-status")).to_have_text("Your turn")
        column(ann, 0).click()
        for page in (ann, bob, cat):
            expect(page.locator("#game-status")).to_have_text("ann won with four in a row")
        expect(column(ann, 2)).to_be_disabled()
        game.refresh_from_db()
        assert (game.winner.username, game.ended, game.moves) == ("ann", "four", 7)
        # The lobby lists the result.
        cat.goto(f"{hub_server.url}/games/")
        expect(cat.locator(f'#game-results li[data-id="{game.pk}"]')).to_contain_text("ann won with four in a row")
    finally:
        proxy.stop()
