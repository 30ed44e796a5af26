"""Service catalogue endpoints: services and integration keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from oncallnova.core.authz import Role
from oncallnova.services.schemas import (
    IntegrationKeyIn,
    IntegrationKeyOut,
    ServiceIn,
    ServiceList,
    ServiceOut,
    ServicePatch,
)
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases

router = APIRouter(prefix="/api/v1/services", tags=["services"])


@router.post(
    "", response_model=ServiceOut, status_code=201, summary="Create a service", **needs(Role.admin)
)
async def create_service(request: Request, body: ServiceIn, who: Actor) -> ServiceOut:
    """Creates the service with a first integration key (listed in `integration_keys`)."""
    service, _key = await use_cases(request).catalog.create(who, body)
    return service


@router.get("", response_model=ServiceList, **needs(Role.viewer))
async def list_services(request: Request, who: Actor) -> ServiceList:
    return ServiceList(items=await use_cases(request).catalog.list(who))


@router.get("/{service_id}", response_model=ServiceOut, **needs(Role.viewer))
async def get_service(request: Request, service_id: str, who: Actor) -> ServiceOut:
    return await use_cases(request).catalog.get(who, service_id)


@router.patch("/{service_id}", response_model=ServiceOut, **needs(Role.admin))
async def update_service(
    request: Request, service_id: str, body: ServicePatch, who: Actor
) -> ServiceOut:
    return await use_cases(request).catalog.update(who, service_id, body)


@router.delete("/{service_id}", status_code=204, response_class=Response, **needs(Role.admin))
async def delete_service(request: Request, service_id: str, who: Actor) -> Response:
    """Deletes a service and its history; refused while it has open incidents."""
    await use_cases(request).catalog.delete(who, service_id)
    return Response(status_code=204)


@router.post(
    "/{service_id}/integration-keys",
    response_model=IntegrationKeyOut,
    status_code=201,
    **needs(Role.admin),
)
async def add_key(
    request: Request, service_id: str, who: Actor, body: IntegrationKeyIn | None = None
) -> IntegrationKeyOut:
    return await use_cases(request).catalog.add_key(who, service_id, body or IntegrationKeyIn())


@router.delete(
    "/{service_id}/integration-keys/{key_id}",
    response_model=IntegrationKeyOut,
    **needs(Role.admin),
)
async def revoke_key(
    request: Request, service_id: str, key_id: str, who: Actor
) -> IntegrationKeyOut:
    """Revokes the key: alerts sent with it are refused from now on."""
    return await use_cases(request).catalog.revoke_key(who, service_id, key_id)
