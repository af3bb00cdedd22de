"""The routing engine: routes, time rules, blacklists and number transformations
compiled into an in-memory table, and the mod_xml_curl documents made from it.
Pure Python; nothing here does I/O."""
