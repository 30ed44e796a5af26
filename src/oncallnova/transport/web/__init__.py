"""The web UI: server-rendered pages (Jinja2), our own CSS and JavaScript, and live
updates over server-sent events. Pages read through the same use cases as the API, with
the signed-in user's role; every action a page offers is a call to the JSON API."""
