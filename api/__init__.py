"""The HTTP API for emitters that are not Python (docs/http-api.md): bearer tokens, and JSON endpoints that
call notifications' services and hub.push, as the socket handlers and commands do."""
