// Who is here, kept from a channel's join reply and its presence diffs (Phoenix's
// presence.js, for our protocol). Every list that shows presence (the Online sidebar, a
// room's "Here now") follows one rule: a join or an update sets the user unless their status
// is "offline", a leave removes them. Diffs from several server processes may repeat what the
// list already knows (docs/protocol.md), and this rule makes that harmless.

export class Presence {
  /**
   * channel: the topic's channel; diffEvent: the push carrying {joins, leaves, updates};
   * fromJoin(data): the PRESENCE list in a join reply; onSync(users): render the list.
   */
  constructor(channel, { diffEvent, fromJoin, onSync }) {
    this.users = new Map(); // user id -> PRESENCE, in the order they came
    channel.onJoin((data) => {
      this.users.clear();
      this.set(fromJoin(data));
      onSync(this.list());
    });
    channel.on(diffEvent, ({ joins = [], leaves = [], updates = [] }) => {
      for (const user of leaves) this.users.delete(user.id);
      this.set([...joins, ...updates]);
      onSync(this.list());
    });
  }

  set(users) {
    for (const user of users) {
      if (user.status === "offline") this.users.delete(user.id);
      else this.users.set(user.id, user);
    }
  }

  list() {
    return [...this.users.values()];
  }
}
