"""A real-time game: Connect Four for two players, server-authoritative, over the `games` lobby topic and
`game:<id>` topics. Built on Hub's public API only (docs/use-cases.md)."""
