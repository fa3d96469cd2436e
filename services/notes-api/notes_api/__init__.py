"""The notes-api handlers: the notes REST routes and attachment URLs (entry point: `notes_api.api.handler`)."""
