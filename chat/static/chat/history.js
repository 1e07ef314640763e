// Older messages and fresher copies of shown ones, both through `history` (oldest first):
// scrolling to the top loads the 50 before the oldest shown, and after a reconnect the newest
// 100 shown are fetched again, since edits and deletes of them may have happened meanwhile
// (`since` only brings messages that are new).

/** Load older messages whenever the list is scrolled to its top, keeping the view in place. */
export function loadOlderOnScroll(channel, messages, showError) {
  const { list } = messages;
  let loading = false;
  let noOlder = false;
  list.addEventListener("scroll", async () => {
    if (list.scrollTop > 20 || loading || noOlder || messages.oldestId === null) return;
    loading = true;
    try {
      const before = list.scrollHeight;
      const data = await channel.request("history", { before: messages.oldestId, limit: 50 });
      if (data.messages.length === 0) noOlder = true;
      messages.add(data.messages, { scroll: false });
      list.scrollTop = list.scrollHeight - before;
    } catch (err) {
      showError(err);
    } finally {
      loading = false;
    }
  });
}

/** Replace the newest shown messages with their current state (after a re-join). */
export function refreshRecent(channel, messages) {
  if (messages.lastId === null) return;
  channel.request("history", { before: messages.lastId + 1, limit: 100 })
    .then((recent) => messages.add(recent.messages, { scroll: false }))
    .catch(() => {});
}
