"""Files in and out: ``read`` (the user's text and JSON-lines files, errors naming file and line),
``outputs`` (every file a command writes: all together or none, atomic, never through a planted link) and
``cache`` (the user cache folder and checked downloads into it)."""
