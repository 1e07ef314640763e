"""Chat: rooms, direct messages, history, typing and read markers."""
