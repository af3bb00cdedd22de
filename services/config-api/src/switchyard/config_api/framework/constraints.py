"""Database constraint -> (field, reason) for the 409/400 a violation becomes.

Declared next to the migrations' constraint names so an error names the
field the client sent, not a Postgres identifier.
"""

from __future__ import annotations

CONSTRAINTS: dict[str, tuple[str, str]] = {
    "dicts_realm_k": ("k", "already exists in this realm"),
    "contexts_name_key": ("name", "a context with this name already exists"),
    "contexts_key_key": ("key", "a context with this key already exists"),
    "extensions_extn_domain": ("extn", "this extension already exists in this domain"),
    "extensions_context_fkey": ("context", "no context with this key"),
    "gateways_name_key": ("name", "a gateway with this name already exists"),
    "ivrs_name_key": ("name", "an IVR with this name already exists"),
    "ivrs_key_key": ("key", "an IVR with this key already exists"),
    "trunks_name_key": ("name", "a trunk with this name already exists"),
    "trunk_groups_name_key": ("name", "a trunk group with this name already exists"),
    "route_codes_code_key": ("code", "this route code already exists"),
    "route_codes_tg_id_fkey": ("tg_id", "no trunk group with this id"),
    "blacklists_name_key": ("name", "a blacklist with this name already exists"),
    "routes_name_key": ("name", "a route with this name already exists"),
    "routes_context_prefix_max_length": (
        "prefix",
        "a route with this prefix and max_length already exists in this context",
    ),
    "routes_context_fkey": ("context", "no context with this key"),
    "route_time_recurrences_route_id_fkey": ("route_id", "no route with this id"),
    "time_templates_name_key": ("name", "a template with this name already exists"),
    "time_template_recurrences_template_id_fkey": ("template_id", "no template with this id"),
    "func_codes_func_code_key": ("func_code", "this function code already exists"),
    "hotlines_line_number_key": ("line_number", "this line number already has a hotline"),
    "dods_extn_id_key": ("extn", "this extension already has a DOD number"),
    "dods_extn_id_fkey": ("extn", "no such extension"),
    "iptables_rules_target": ("target_ip", "this rule already exists"),
    "number_translations_name_key": ("name", "a number translation table with this name exists"),
    "number_translation_numbers_original": (
        "original_number",
        "this original number is already in the table",
    ),
    "extn_alarms_extn_id_fkey": ("extn_id", "no extension with this id"),
    "extn_alarm_devices_device": ("device_id", "this device is already in the sensor"),
}
