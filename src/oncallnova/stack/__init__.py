"""`oncallnova stack`: the split topology on one machine without Docker."""
