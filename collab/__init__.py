"""Collaborative documents: several people edit one text at once, merged by a CRDT (Yjs in the browser,
pycrdt on the server), over the `doc:<id>` topic. Built on Hub's public API only (docs/use-cases.md)."""
