"""Rendering: turning the services' plain values into what people read (Slack mrkdwn, PNG charts).

An adapter at the edge, like `desk.slack`: it imports the services' value types and Jinja2/Pillow, never
the database. Whoever delivers (the dispatcher, `desk digest preview`) computes, then renders here.
"""
