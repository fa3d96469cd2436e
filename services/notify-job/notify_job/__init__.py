"""The notify job: texts the admin about every purchase announced on the note-purchased topic.

Modules: `settings` (environment), `handler` (the SNS-triggered Lambda entry point).
"""
