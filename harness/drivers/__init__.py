"""Drivers carry the user's side of a flow: a real browser, or HTTP requests that act like one.

Both answer ``open(url)`` and ``submit_form(fields, submit, untick, form)`` with a Landing:
the page the flow stopped at, or the app's redirect URI with the MIC's answer. The fields go
into the form the recipe's ``form`` selector names, else the one that holds them; pages that
post themselves onward (SAML's HTTP-POST binding, however triggered) are hops, not landings
(``pages`` says how the HTTP driver reads them). ``has_field`` and ``text_by_id`` read the
page a recipe is completing.
"""
