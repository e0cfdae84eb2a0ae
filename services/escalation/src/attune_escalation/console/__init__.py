"""The clinician console: server-rendered pages over the clinician API.

Pages are rendered here (Jinja2); every action is a call to the JSON API from the page's
script with the session cookie and its CSRF token, so the console has no business logic of
its own.
"""
