"""The SSRF policy of outgoing webhooks: the decision table, DNS, and the send-time check."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator

import pytest

from oncallnova.notify import ssrf
from oncallnova.notify.channels import Delivery
from oncallnova.notify.contacts import HttpTarget
from oncallnova.transport.webhooks.channel import WebhookChannel
from tests.support.receiver import Receiver

ALWAYS = "link-local or cloud metadata"
PRIVATE = "loopback or private"


@pytest.mark.parametrize(
    ("address", "allowed_private", "refused_private"),
    [
        # refused always, whatever WEBHOOK_ALLOW_PRIVATE says
        ("169.254.169.254", ALWAYS, ALWAYS),
        ("169.254.0.1", ALWAYS, ALWAYS),
        ("fd00:ec2::254", ALWAYS, ALWAYS),
        ("fe80::1", ALWAYS, ALWAYS),
        ("febf:ffff::1", ALWAYS, ALWAYS),
        ("::ffff:169.254.169.254", ALWAYS, ALWAYS),
        ("64:ff9b::a9fe:a9fe", ALWAYS, ALWAYS),  # NAT64 form of 169.254.169.254
        # IPv6 forms that embed 169.254.169.254 and reach it on some stacks
        ("::169.254.169.254", ALWAYS, ALWAYS),  # IPv4-compatible
        ("::ffff:0:169.254.169.254", ALWAYS, ALWAYS),  # IPv4-translated (SIIT)
        ("64:ff9b:1::a9fe:a9fe", ALWAYS, ALWAYS),  # NAT64 local-use prefix
        ("2002:a9fe:a9fe::1", ALWAYS, ALWAYS),  # 6to4
        ("2001:0:4136:e378:8000:63bf:5601:5601", ALWAYS, ALWAYS),  # Teredo client
        # refused only when private targets are not allowed
        ("127.0.0.1", None, PRIVATE),
        ("127.255.0.9", None, PRIVATE),
        ("::1", None, PRIVATE),
        ("::ffff:127.0.0.1", None, PRIVATE),
        ("::", None, PRIVATE),
        ("0.0.0.0", None, PRIVATE),
        ("0.1.2.3", None, PRIVATE),
        ("10.0.0.1", None, PRIVATE),
        ("172.16.0.1", None, PRIVATE),
        ("172.31.255.254", None, PRIVATE),
        ("192.168.1.10", None, PRIVATE),
        ("100.64.0.1", None, PRIVATE),
        ("100.127.255.254", None, PRIVATE),
        ("fc00::1", None, PRIVATE),
        ("fd12:3456::1", None, PRIVATE),
        ("::ffff:10.1.2.3", None, PRIVATE),
        ("2002:a00:1::", None, PRIVATE),  # 6to4 wrapping 10.0.0.1
        ("::127.0.0.1", None, PRIVATE),  # IPv4-compatible loopback
        ("::10.0.0.1", None, PRIVATE),
        ("::ffff:0:10.0.0.1", None, PRIVATE),
        ("64:ff9b:1::a00:1", None, PRIVATE),
        # public: allowed either way
        ("8.8.8.8", None, None),
        ("1.1.1.1", None, None),
        ("172.32.0.1", None, None),
        ("100.128.0.1", None, None),
        ("169.255.0.1", None, None),
        ("2606:4700:4700::1111", None, None),
        ("::ffff:8.8.8.8", None, None),
        ("::8.8.8.8", None, None),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", None, None),  # Teredo, public client
        ("fec0::1", None, None),  # just outside fe80::/10
    ],
)
def test_decision_table(address: str, allowed_private: str | None, refused_private: str | None):
    ip = ipaddress.ip_address(address)
    for allow, expected in ((True, allowed_private), (False, refused_private)):
        reason = ssrf.refused_reason(ip, allow_private=allow)
        if expected is None:
            assert reason is None, (address, allow, reason)
        else:
            assert reason is not None and expected in reason, (address, allow, reason)
            assert str(ip) in reason


def test_private_refusal_names_the_setting():
    reason = ssrf.refused_reason(ipaddress.ip_address("10.0.0.1"), allow_private=False)
    assert reason is not None and "WEBHOOK_ALLOW_PRIVATE=true" in reason


def test_scoped_link_local_is_refused():
    assert ssrf.refused_reason(ipaddress.ip_address("fe80::1%1"), allow_private=True)


async def test_localhost_resolves_to_loopback():
    addresses = await ssrf.resolve("localhost", 80)
    assert addresses and all(ip.is_loopback for ip in addresses)


async def test_check_url_literals_and_names():
    assert await ssrf.check_url("http://127.0.0.1:9/x", allow_private=True)
    assert await ssrf.check_url("https://8.8.8.8/hook", allow_private=False)
    with pytest.raises(ssrf.TargetRefused, match=ALWAYS):
        await ssrf.check_url("http://169.254.169.254/latest/meta-data", allow_private=True)
    with pytest.raises(ssrf.TargetRefused, match=ALWAYS):
        await ssrf.check_url("http://[::ffff:169.254.169.254]/", allow_private=True)
    with pytest.raises(ssrf.TargetRefused, match=ALWAYS):
        await ssrf.check_url("http://[::169.254.169.254]/", allow_private=True)
    with pytest.raises(ssrf.TargetRefused, match="'localhost' resolves to .*" + PRIVATE):
        await ssrf.check_url("http://localhost:8080/hook", allow_private=False)
    with pytest.raises(ssrf.TargetRefused, match=PRIVATE):
        await ssrf.check_url("http://0x7f000001/", allow_private=False)  # 127.0.0.1 spelled oddly


async def test_any_refused_address_refuses_the_host(monkeypatch: pytest.MonkeyPatch):
    async def two_addresses(host: str, port: int) -> list[ssrf.IPAddress]:
        return [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(ssrf, "resolve", two_addresses)
    with pytest.raises(
        ssrf.TargetRefused, match=re.escape("'hooks.example.test' resolves to 169.254")
    ):
        await ssrf.check_url("https://hooks.example.test/x", allow_private=True)


async def test_unresolvable_host(monkeypatch: pytest.MonkeyPatch):
    async def nowhere(host: str, port: int) -> list[ssrf.IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(ssrf, "resolve", nowhere)
    with pytest.raises(
        ssrf.TargetRefused, match=re.escape("cannot resolve host 'nope.example.test'")
    ):
        await ssrf.check_url("http://nope.example.test/", allow_private=True)


# --- send time: the channel vets each connection it opens ---------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


DELIVERY = Delivery(
    id="d-1",
    channel="webhook",
    destination="w",
    kind="event",
    event_type="incident.new",
    incident_id="i",
    payload={"event": {"id": "e"}},
    attempt=1,
)


async def send(url: str, *, allow_private: bool):
    async def directory(_: str) -> HttpTarget:
        return HttpTarget(url=url, headers={}, secrets=["whsec_x"])

    channel = WebhookChannel(directory, timeout=2.0, allow_private=allow_private)
    try:
        return await channel.send(DELIVERY)
    finally:
        await channel.close()


async def test_send_time_refusal_is_final_and_sends_nothing(receiver: Receiver):
    # The host resolves to 127.0.0.1 now, whatever it did when the webhook was saved.
    outcome = await send(f"http://localhost:{receiver.port}/hook", allow_private=False)
    assert not outcome.ok and not outcome.temporary
    assert outcome.error is not None and outcome.error.startswith("refused: ")
    assert "'localhost' resolves to " in outcome.error and PRIVATE in outcome.error
    assert receiver.requests == []


async def test_metadata_refused_at_send_even_with_private_allowed():
    outcome = await send("http://169.254.169.254/latest/meta-data", allow_private=True)
    assert not outcome.ok and not outcome.temporary
    assert outcome.error is not None and ALWAYS in outcome.error


async def test_allowed_target_is_delivered_with_its_host_header(receiver: Receiver):
    outcome = await send(f"http://localhost:{receiver.port}/hook", allow_private=True)
    assert outcome.ok, outcome
    assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"


async def test_connection_goes_to_the_vetted_address(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    """One lookup per connection: the socket connects to what was judged (no rebinding)."""
    lookups: list[str] = []

    async def fake_dns(host: str, port: int) -> list[ssrf.IPAddress]:
        lookups.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(ssrf, "resolve", fake_dns)
    # The name exists only in fake_dns: a second, real lookup would fail to connect.
    outcome = await send(f"http://rebind.example.test:{receiver.port}/hook", allow_private=True)
    assert outcome.ok, outcome
    assert lookups == ["rebind.example.test"]
    assert receiver.requests[0].headers["host"] == f"rebind.example.test:{receiver.port}"
    refused = await send(f"http://rebind.example.test:{receiver.port}/hook", allow_private=False)
    assert refused.error is not None and refused.error.startswith("refused: ")
    assert len(receiver.requests) == 1


async def test_unresolvable_at_send_time_is_temporary(monkeypatch: pytest.MonkeyPatch):
    async def nowhere(host: str, port: int) -> list[ssrf.IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(ssrf, "resolve", nowhere)
    outcome = await send("http://gone.example.test/hook", allow_private=True)
    assert not outcome.ok and outcome.temporary
    assert outcome.error is not None and "cannot resolve host" in outcome.error
