"""Switchyard event-relay service."""
