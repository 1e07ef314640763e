// Older messages through `history` (oldest first): scrolling to the top loads the 50 before the
// oldest shown. (Edits and deletes made while offline come with the re-join: `since_change`.)

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
