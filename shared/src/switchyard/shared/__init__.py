"""What every Switchyard service imports."""
