"""Drivers carry the user's side of a flow: a real browser, or HTTP requests that act like one.

Both answer ``open(url)`` and ``submit_form(fields, submit)`` with a Landing: the page
the flow stopped at, or the app's redirect URI with the MIC's answer; ``has_field`` and
``text_by_id`` read the page a recipe is completing.
"""
