"""The native driver: the no-Docker process topology (`oncallnova stack up|down|status`).

That topology is not part of this version yet, so this driver reports it as missing
and runs nothing; once `oncallnova stack` exists, its plans call it (deploy: `stack up
--ingestion N`, down: `stack down`, status: `stack status`)."""

from __future__ import annotations

from oncallnova.operator.client import OperatorError
from oncallnova.operator.deploy.driver import Plan, role_services

GAP = "the no-Docker process topology (`oncallnova stack`) is not built yet"


class NativeDriver:
    name = "native processes"

    def missing(self) -> str | None:
        return GAP

    def services(self) -> tuple[str, ...]:
        return role_services()

    def _gap(self) -> Plan:
        raise OperatorError(GAP)

    def build(self) -> Plan:
        return self._gap()

    def deploy(self) -> Plan:
        return self._gap()

    def down(self) -> Plan:
        return self._gap()

    def restart(self, service: str | None) -> Plan:
        return self._gap()

    def clean(self) -> Plan:
        return self._gap()

    def logs(self, service: str | None, follow: bool) -> Plan:
        return self._gap()

    def scale(self, replicas: int) -> Plan:
        return self._gap()
