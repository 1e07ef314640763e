// Who is here, kept from a channel's join reply and its presence diffs (Phoenix's
// presence.js, for our protocol). Every list that shows presence (the Online sidebar, a
// room's "Here now") follows one rule: a join or an update sets the user unless their status
// is "offline", a leave removes them. Diffs from several server processes may repeat what the
// list already knows (docs/protocol.md), and this rule makes that harmless.
//
// A large set (more than HUB_PRESENCE_LIST_MAX users) is told as a count: `more` is true, the
// join lists a first page only and diffs name only the users this socket watches. When a
// diff's `more` differs from the view's, the set changed size class and the channel re-joins.

export class Presence {
  /**
   * channel: the topic's channel; diffEvent: the push carrying {joins, leaves, updates, count, more};
   * fromJoin(data): {users, count, more} from a join reply; onSync(users, presence): render.
   */
  constructor(channel, { diffEvent, fromJoin, onSync }) {
    this.users = new Map(); // user id -> PRESENCE, in the order they came
    this.count = 0; // users in the set, as the server last said
    this.more = false; // the set is large: `users` holds the first page and the watched users only
    this.onSync = onSync;
    channel.onJoin((data) => {
      const { users, count, more } = fromJoin(data);
      this.users.clear();
      this.set(users);
      this.count = count ?? this.users.size;
      this.more = Boolean(more);
      this.sync();
    });
    channel.on(diffEvent, ({ joins = [], leaves = [], updates = [], count, more }) => {
      if (more !== undefined && more !== this.more) {
        channel.rejoin(); // grown past the limit, or shrunk back: the server lists it afresh
        return;
      }
      for (const user of leaves) this.users.delete(user.id);
      this.set([...joins, ...updates]);
      if (count !== undefined) this.count = count;
      else if (!this.more) this.count = this.users.size;
      this.sync();
    });
  }

  set(users) {
    for (const user of users) {
      if (user.status === "offline") this.users.delete(user.id);
      else this.users.set(user.id, user);
    }
  }

  sync() {
    this.onSync(this.list(), this);
  }

  list() {
    return [...this.users.values()];
  }
}
