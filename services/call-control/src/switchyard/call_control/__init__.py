"""Switchyard call-control service."""
