"""Switchyard media service."""
