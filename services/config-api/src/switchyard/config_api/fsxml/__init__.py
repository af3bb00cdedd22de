"""FreeSWITCH directory and configuration documents (mod_xml_curl)."""
