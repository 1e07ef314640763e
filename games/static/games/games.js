// Connect Four's pages: the lobby (/games/: invitations, quick match, your games, results) over topic `games`,
// and a board (/games/<id>/) over `game:<id>`. The server decides everything: a click sends a column and the
// number of moves this page has seen, and the board shows only what the server answers or pushes.
import { el } from "../hub/dom.js";

const ENDINGS = {
  four: "four in a row", draw: "a draw", resign: "resigned", time: "ran out of time", forfeit: "left the game",
};

function loser(game) {
  return game.players.map((p) => p.username).find((name) => name !== game.winner);
}

function outcome(game) {
  if (game.draw) return "Draw";
  if (game.ended === "abandoned") return "Abandoned: a player never came";
  if (!game.winner) return null;
  if (game.ended === "four") return `${game.winner} won with four in a row`;
  return `${game.winner} won: ${loser(game)} ${ENDINGS[game.ended]}`;
}

function opponentOf(game, me) {
  return game.players.map((p) => p.username).find((name) => name !== me) || me;
}

function lobby(hub, root) {
  const me = document.body.dataset.hubUser;
  const list = document.getElementById("game-list");
  const results = document.getElementById("game-results");
  const state = document.getElementById("games-state");
  const error = document.getElementById("games-error");
  const quick = document.getElementById("game-quick");
  const games = new Map();
  let waiting = false;

  function showGames() {
    list.replaceChildren(...[...games.values()].sort((a, b) => b.id - a.id).map((game) => {
      const turn = game.turn === me ? "your turn" : `${game.turn}'s turn`;
      const item = el("li", {}, el("a", { href: `/games/${game.id}/`, textContent: `vs ${opponentOf(game, me)}` }),
        el("span", { className: "meta", textContent: ` · move ${game.moves} · ${turn}` }));
      item.dataset.id = game.id;
      return item;
    }));
    if (!games.size) list.append(el("li", { className: "meta", textContent: "No games going on." }));
  }

  function addResult(game) {
    results.querySelector(`li[data-id="${game.id}"]`)?.remove();
    const item = el("li", {}, el("a", { href: `/games/${game.id}/`, textContent: game.players.map((p) => p.username).join(" vs ") }),
      el("span", { className: "meta", textContent: ` · ${outcome(game)}` }));
    item.dataset.id = game.id;
    results.prepend(item);
  }

  function showWaiting(on) {
    waiting = on;
    quick.textContent = on ? "Stop waiting" : "Quick match";
    state.textContent = on ? "Waiting for an opponent…" : "Live";
  }

  const channel = hub.channel("games");
  channel.onJoin((data) => {
    games.clear();
    for (const game of data.games) games.set(game.id, game);
    results.replaceChildren();
    for (const game of [...data.results].reverse()) addResult(game);
    showGames();
    showWaiting(data.waiting);
  });
  channel.on("invited", ({ game }) => {
    games.set(game.id, game);
    showGames();
    state.textContent = `${game.players[0].username} invited you to a game`;
  });
  channel.on("matched", ({ game }) => { window.location.href = `/games/${game.id}/`; });
  channel.on("finished", ({ game }) => {
    games.delete(game.id);
    showGames();
    addResult(game);
  });
  channel.join().catch(() => {});

  document.getElementById("game-invite").addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    const opponent = document.getElementById("game-opponent").value.trim();
    channel.request("create", { opponent }).then(
      ({ game }) => { window.location.href = `/games/${game.id}/`; },
      (err) => { error.textContent = err.message; },
    );
  });
  quick.addEventListener("click", () => {
    error.textContent = "";
    channel.request(waiting ? "cancel_quick" : "quick", {}).then(
      (data) => {
        if (data.game) window.location.href = `/games/${data.game.id}/`;
        else showWaiting(data.waiting);
      },
      (err) => { error.textContent = err.message; },
    );
  });
}

function board(hub, root) {
  const me = document.body.dataset.hubUser;
  const grid = document.getElementById("game-board");
  const status = document.getElementById("game-status");
  const clocks = document.getElementById("game-clocks");
  const error = document.getElementById("game-error");
  const resign = document.getElementById("game-resign");
  let game = null;
  let clockAt = 0; // when `game.clocks` was read

  function show(next) {
    if (game && next.moves < game.moves) return; // never an older state after a newer one
    game = next;
    clockAt = Date.now();
    const names = game.players.map((p) => p.username);
    const playing = names.includes(me);
    document.getElementById("game-title").textContent = `${names[0]} vs ${names[1]}`;
    grid.replaceChildren();
    game.board.forEach((row, r) => row.forEach((owner, c) => {
      const cell = el("button", { type: "button", className: "game-cell" });
      cell.dataset.row = r;
      cell.dataset.column = c;
      if (owner) cell.dataset.owner = names.indexOf(owner) === 0 ? "first" : "second";
      cell.setAttribute("aria-label", `row ${r + 1}, column ${c + 1}: ${owner || "empty"}`);
      cell.disabled = !playing || Boolean(game.ended);
      grid.append(cell);
    }));
    const result = outcome(game);
    status.textContent = result || (game.turn === me ? "Your turn" : `${game.turn} to move`);
    root.dataset.turn = game.turn || "";
    root.dataset.over = game.ended ? "true" : "false";
    resign.hidden = !playing || Boolean(game.ended);
    tick();
  }

  function tick() {
    if (!game) return;
    clocks.replaceChildren(...game.players.map(({ username }, seat) => {
      let left = game.clocks[username];
      if (!game.ended && game.turn === username) left = Math.max(0, left - (Date.now() - clockAt) / 1000);
      const minutes = Math.floor(left / 60);
      const seconds = Math.floor(left % 60).toString().padStart(2, "0");
      const item = el("span", { className: "game-clock", textContent: `${username} ${minutes}:${seconds}` });
      item.dataset.username = username;
      item.dataset.seat = seat === 0 ? "first" : "second"; // the colour of their pieces
      if (game.turn === username) item.classList.add("running");
      return item;
    }));
  }
  setInterval(tick, 250);

  const channel = hub.channel(`game:${root.dataset.gameId}`);
  channel.onJoin(({ game: fresh }) => { game = null; show(fresh); });
  channel.on("state", ({ game: next }) => show(next));
  channel.onError((err) => { status.textContent = `Refused: ${err.message}`; });
  channel.join().catch(() => {});

  grid.addEventListener("click", (event) => {
    const cell = event.target.closest(".game-cell");
    if (!cell || !game) return;
    error.textContent = "";
    channel.request("move", { column: Number(cell.dataset.column), moves: game.moves }).then(
      ({ game: next }) => show(next),
      (err) => { error.textContent = err.message; },
    );
  });
  resign.addEventListener("click", () => {
    channel.request("resign", {}).then(({ game: next }) => show(next), (err) => { error.textContent = err.message; });
  });
}

export function init(hub) {
  const lobbyRoot = document.getElementById("games-lobby");
  if (lobbyRoot) lobby(hub, lobbyRoot);
  const gameRoot = document.getElementById("game");
  if (gameRoot) board(hub, gameRoot);
}
