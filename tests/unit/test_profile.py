"""What a vendor profile derives, so that no fact is written twice."""

from __future__ import annotations

import dataclasses

import pytest

from Connectors.core.config import RateSpec
from Connectors.core.profile import AuthScheme, CredentialKind, Setting, VendorProfile
from Connectors.core.settings import COMMON as COMMON_SETTINGS
from Connectors.vendors import VENDORS
from Connectors.vendors.controlroom.profile import CONTROLROOM
from Connectors.vendors.robaws.profile import ROBAWS
from Connectors.vendors.robostack.profile import ROBOSTACK

COMMON = ("vault_secret", "rate_limit", "burst", "rate_scale", "timeout", "throttle_store", "workers")
PROFILES = [vendor.profile() for vendor in VENDORS]


def test_one_vendor_list() -> None:
    """The registry names each vendor's parts; the sandbox's own copy (it imports nothing of ours) agrees."""
    from connectors_sandbox.options import VENDORS as SANDBOX_VENDORS

    assert tuple(vendor.key for vendor in VENDORS) == SANDBOX_VENDORS
    for vendor in VENDORS:
        assert vendor.profile().key == vendor.key
        assert vendor.client().profile is vendor.profile()
        assert vendor.library().client_class is vendor.client()
    assert set(COMMON) | {"daily_quota"} == COMMON_SETTINGS


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.key)
def test_every_profile_ends_with_the_common_settings_once(profile: VendorProfile) -> None:
    names = profile.setting_names
    assert len(names) == len(set(names))
    assert set(COMMON) <= set(names)
    assert ("daily_quota" in names) == (profile.daily_quota is not None)
    again = dataclasses.replace(profile)
    assert again.setting_names == names


def test_a_common_setting_the_vendor_declares_is_kept_as_declared() -> None:
    own = Setting("timeout", "ACME_TIMEOUT", default="5", doc="ACME answers fast", kind=float)
    profile = VendorProfile(
        name="Acme",
        default_url="https://acme.example",
        settings=(own,),
        credentials=(CredentialKind("a key", AuthScheme.HEADERS, ("timeout",)),),
    )
    assert profile.setting("timeout") is own
    assert profile.setting_names.count("timeout") == 1
    assert profile.site == "https://acme.example"
    assert profile.rate_doc == "no published limit, and none by default"


def test_the_limit_is_described_from_the_rate_and_the_quota() -> None:
    assert ROBAWS.rate_doc == "15 requests/second with a burst of 20, and 10,000 requests a day per tenant and mode"
    assert CONTROLROOM.rate_doc == "no published limit; 10 requests/second with a burst of 20 by default"
    assert ROBOSTACK.rate_doc == "no published limit; 5 requests/second with a burst of 10 by default"
    minute = VendorProfile(name="M", default_url="https://m.example", rate=RateSpec(60, 60))
    assert minute.rate_doc == "60 requests/minute"


def test_the_connect_summary_names_the_credential_kinds() -> None:
    assert ROBAWS.connect_summary == "Connect to Robaws with HTTP Basic or an OAuth2 client."
    assert CONTROLROOM.connect_summary == "Connect to Control Room with a workspace API key."
