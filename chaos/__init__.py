"""`./sy chaos`: kill, restart and cut off every part of a multi-process stack
under load, and count what was lost (docs/reliability.md)."""
