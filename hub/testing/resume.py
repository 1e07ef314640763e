"""verify_resume: a client that follows a topic by its pushes, or comes back and resumes, ends where a fresh join is.

In the spirit of Zulip's `verify_action`: describe how a client keeps a topic's state (a
StreamModel), give the actions that change it, and verify_resume runs a random sequence of
them while two sockets of the user watch:

- the *watcher* joins first and applies every push it gets;
- the *resumer* joins too, leaves halfway through, and comes back with the model's resume
  payload (e.g. `{"since_seq": ...}`), merging that reply into what it had;

then a fresh socket joins, and both states must equal the fresh one. A difference names the
seed, so the run can be repeated exactly.
"""

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass
class StreamModel:
    """How a client keeps one topic's state.

    - `state(join_data)`: the state a join reply gives (comparable with ==);
    - `apply(state, event, payload)`: the state after one push of the topic;
    - `resume(state)`: the join payload that resumes from `state` (None: this topic is not
      resumed, the resumer is skipped);
    - `merge(state, join_data)`: the state after a resuming join's reply (default: the reply's
      state, for topics whose join answers everything);
    - `join_payload`: the payload of a first join.
    """

    topic: str
    state: Callable[[dict], Any]
    apply: Callable[[Any, str, dict], Any]
    resume: Optional[Callable[[Any], dict]] = None
    merge: Optional[Callable[[Any, dict], Any]] = None
    join_payload: dict = field(default_factory=dict)


async def _follow(comm, model, state, quiet_s):
    """Apply the topic's pushes (buffered first, then new ones) until none came for `quiet_s`.

    Waits with `nothing()`, which polls: a timed-out receive would make asgiref cancel the socket.
    """
    while True:
        mine = [frame for frame in comm.buffer if frame.get("topic") == model.topic]
        comm.buffer[:] = [frame for frame in comm.buffer if frame.get("topic") != model.topic]
        for frame in mine:
            if frame.get("event") != "reply":
                state = model.apply(state, frame["event"], frame["payload"])
        if not mine and await comm.nothing(quiet_s, topic=model.topic):
            return state


async def verify_resume(connect, user, model, actions, *, steps=20, seed=None, quiet_s=0.5):
    """Run `steps` actions picked at random (`await action(rng)`); assert watcher, resumer and a fresh join agree.

    `connect` is the hub_connect fixture (or any `await connect(user)` -> HubCommunicator).
    Returns the fresh join's state.
    """
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    watcher = await connect(user)
    watched = model.state(await watcher.ok(model.topic, "join", model.join_payload))
    resumer = await connect(user) if model.resume else None
    resumed = model.state(await resumer.ok(model.topic, "join", model.join_payload)) if resumer else None
    done = []
    for step in range(steps):
        if resumer is not None and step == steps // 2:
            resumed = await _follow(resumer, model, resumed, quiet_s)
            await resumer.disconnect()
        action = rng.choice(actions)
        done.append(getattr(action, "__name__", repr(action)))
        await action(rng)
        watched = await _follow(watcher, model, watched, 0.05)  # keep up, as a client would
    watched = await _follow(watcher, model, watched, quiet_s)
    if resumer is not None:
        resumer = await connect(user)
        data = await resumer.ok(model.topic, "join", model.resume(resumed))
        resumed = model.merge(resumed, data) if model.merge else model.state(data)
        resumed = await _follow(resumer, model, resumed, quiet_s)
    fresh = model.state(await (await connect(user)).ok(model.topic, "join", model.join_payload))
    where = f"{model.topic}, seed {seed}, actions {done}"
    assert watched == fresh, f"joined and followed the pushes != a fresh join ({where}):\n{watched}\n!=\n{fresh}"
    if resumer is not None:
        assert resumed == fresh, f"resumed != a fresh join ({where}):\n{resumed}\n!=\n{fresh}"
    return fresh
