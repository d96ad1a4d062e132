"""The browser console. Views stay thin: load the object, validate a form, call a service,
redirect."""
