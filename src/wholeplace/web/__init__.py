"""The web app: server-rendered pages and the JSON API over the same service functions.

``wholeplace.web.app.create_app(settings)`` builds the app; nothing is opened at import time.
"""
