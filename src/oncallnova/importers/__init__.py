"""`oncallnova import`: bring users, teams, schedules, escalation and integrations over
from the tool a team is leaving (Grafana OnCall, Opsgenie, any schedule's iCalendar
feed), as a plan first."""
