// Error text for people. The server's messages name payload fields (`name`); people know the
// form's labels.

const FIELD_LABELS = { "`name`": "The name", "`username`": "The username", "`members`": "Members", "`body`": "The message" };

export function friendly(err) {
  let text = err.message || "That did not work.";
  for (const [field, label] of Object.entries(FIELD_LABELS)) text = text.replace(field, label);
  return text;
}
