"""Code shared by every service's handlers (it goes into each function's artifact).

Modules: `settings` (typed env settings), `aws` (lazily built boto3 clients), `ids`
(time-ordered ids), `notes_db` (the notes table), `errors` (exception → HTTP response),
`observability` (Logger / Tracer / Metrics). Nothing here imports `stagewise`: this code
runs on Lambda, where only the handler's artifact exists.
"""
