"""Switchyard config-api service."""
