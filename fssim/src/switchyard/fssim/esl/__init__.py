"""Inbound ESL exactly as mod_event_socket speaks it: the wire (``wire``), one
connection (``session``) and the listener that accepts them (``server``)."""
