// A grouped notification's subject: "alice", "alice and bob", "alice, bob and carol", "alice, bob and 3 others"
// (notifications/serializers.py `who` says the same on the server-rendered page).
export function who(n) {
  const names = (n.actors || []).map((a) => a.username);
  const count = n.actor_count || names.length;
  if (count > 3 && names.length >= 2) {
    const others = count - 2;
    return `${names[0]}, ${names[1]} and ${others} other${others > 1 ? "s" : ""}`;
  }
  if (names.length <= 1) return names[0] || "";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** What an item says: its verb, after its actors when it stands for several notifications. */
export function label(n) {
  return n.count > 1 ? `${who(n)} ${n.verb}` : n.verb;
}
