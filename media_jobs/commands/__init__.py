"""One function per user action, shared by every front door (the HTML console, the JSON API and
the vendor dialects). Each checks its own preconditions and raises one
`media_jobs.errors.LoopdeckError` with a stable code and the field it concerns; the front doors
only translate input and output.

Modules by domain: `videos` (upload, import from a URL, rename, delete, cover), `tasks` (submit,
retry, abort, delete an output), `workflows`, `templates`, `subscriptions`.
"""
