"""Heartbeat monitors: a service's jobs say they are alive; silence opens an alert."""
