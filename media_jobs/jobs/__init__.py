"""Every RQ job, each a thin function that takes a primary key, loads the row, does the work
(the encode core in a child process, a download, a callback POST) and records the outcome; the
queues and how work is put on them (`queues`); the reconciler that finds lost work
(`reconcile`); the worker class (`worker`) and the scratch folders jobs work in (`scratch`).

Jobs are queued by their dotted names from `queues` only, all inside this package."""
