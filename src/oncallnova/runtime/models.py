"""Imports every domain's tables so the metadata is complete (for Alembic)."""

from __future__ import annotations


def load_all_models() -> None:
    from oncallnova.alerts import models as alerts_models
    from oncallnova.auth import models as auth_models
    from oncallnova.heartbeats import models as heartbeats_models
    from oncallnova.incidents import models as incidents_models
    from oncallnova.notify import models as notify_models
    from oncallnova.oncall import models as oncall_models
    from oncallnova.services import models as services_models
    from oncallnova.suppression import models as suppression_models
    from oncallnova.users import models as users_models

    del alerts_models, incidents_models, notify_models, oncall_models
    del services_models, users_models, auth_models
    del heartbeats_models, suppression_models
