"""The SIP profiles Switchyard's sofia.conf defines, and the one a gateway lives on.

config-api writes sofia.conf from this (fsxml/documents.py); call-control
starts, kills and reads gateways on the profile named here (config_sync.py,
gateways_http.py). It is one rule on purpose: a gateway started on another
profile than the one sofia.conf lists it under fails to start.
"""

from __future__ import annotations

PROFILES = ("internal", "external")
# Where a gateway goes whose row names no profile, or one that is not ours.
DEFAULT_PROFILE = "external"


def gateway_profile(profile_id: str | None) -> str:
    """The profile of a configured gateway (its ``gateways.profile_id``)."""
    return profile_id if profile_id in PROFILES else DEFAULT_PROFILE
