"""Settings of the billing service (environment variables prefixed `BILLING_`).

S3 uses the installation's shared names (`S3_ENDPOINT_URL`, `S3_ACCESS_KEY_ID`, …) with the
same dev defaults as the documents service; the bucket is billing's own (`BILLING_S3_BUCKET`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import DEV_S3_ENDPOINT, BaseServiceSettings

PayfipMode = Literal["simulator", "payfip"]


class BillingSettings(BaseServiceSettings):
    """The kit's settings plus S3, PayFiP, the structure's header and the invoicing rules."""

    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "billing"
    default_port: ClassVar[int] = 8104
    # Deliberately only the kit's: what prod must set for S3 and PayFiP is listed in
    # docs/billing.md; PayFiP defaults to the real service in prod (see `_payfip_mode`).

    s3_endpoint_url: str = Field(DEV_S3_ENDPOINT, validation_alias="S3_ENDPOINT_URL")
    s3_access_key_id: str = Field("portail-dev", validation_alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str = Field(
        "portail-dev-secret", validation_alias="S3_SECRET_ACCESS_KEY", repr=False
    )
    s3_region: str = Field("eu-west-3", validation_alias="S3_REGION")
    s3_bucket: str = "portail-billing"
    s3_create_bucket: bool = Field(True, validation_alias="S3_CREATE_BUCKET")
    s3_timeout_seconds: float = Field(5.0, gt=0, le=60, validation_alias="S3_TIMEOUT_SECONDS")

    # The address browsers use (PayFiP sends the family back there after paying).
    public_base_url: str = Field("http://127.0.0.1:8080", validation_alias="PUBLIC_BASE_URL")
    # Where PayFiP can reach this service for its notifications (server to server).
    notification_base_url: str = ""

    # PayFiP (DGFiP). `simulator` mounts the offline simulator at /payfip-simulator/ in this
    # very service; `payfip` talks to the Treasury's web service.
    payfip_mode: PayfipMode | None = None
    payfip_numcli: str = Field("000123", pattern=r"^\d{6}$")
    payfip_saisie: Literal["T", "X", "W"] = "T"
    payfip_ws_url: str = "https://www.payfip.gouv.fr/tpa/services/securite"
    payfip_page_url: str = "https://www.payfip.gouv.fr/tpa/paiementws.web"
    # An attempt not settled after this long is asked once more, then expired.
    payfip_attempt_ttl_minutes: int = Field(30, ge=1, le=24 * 60)

    # The invoice's header and the structure's details.
    org_name: str = "Mairie de Hasparren"
    org_service: str = "Service enfance jeunesse"
    org_address: str = "Place de la Mairie, 64240 Hasparren"
    org_contact: str = "05 59 00 00 00 — enfance@example.org"
    # Postal codes of the commune: families living there pay the resident tariff.
    resident_postal_codes: str = "64240"
    invoice_prefix: str = Field("F", pattern=r"^[A-Z]{1,3}$")
    credit_note_prefix: str = Field("A", pattern=r"^[A-Z]{1,3}$")
    receipt_prefix: str = Field("R", pattern=r"^[A-Z]{1,3}$")
    payment_days: int = Field(30, ge=1, le=120)

    # Where the bookings and families services are read (through the gateway).
    billable_lines_path: str = "/api/bookings/billable-lines"
    family_path: str = "/api/families/families/{family_id}"
    # OAuth client (scopes bookings:read families:read) for the monthly run from beat.
    api_client_id: str = ""
    api_client_secret: str = Field("", repr=False)
    token_path: str = "/api/auth/oauth/token"  # noqa: S105 - a path, not a secret

    # Beat's monthly run prepares the previous month's preview; staff publish it, unless this
    # is on.
    auto_publish: bool = False
    # Concurrency of PDF generation during a publication.
    pdf_concurrency: int = Field(4, ge=1, le=64)

    @model_validator(mode="after")
    def _payfip_mode(self) -> BillingSettings:
        # The simulator accepts any payment: it is the default outside prod only, and refused
        # in prod even when asked for.
        if self.payfip_mode is None:
            mode = "payfip" if self.profile == "prod" else "simulator"
            object.__setattr__(self, "payfip_mode", mode)
        elif self.payfip_mode == "simulator" and self.profile == "prod":
            raise ValueError("BILLING_PAYFIP_MODE=simulator is not allowed in prod")
        return self

    @property
    def resident_codes(self) -> frozenset[str]:
        """The commune's postal codes."""
        return frozenset(c.strip() for c in self.resident_postal_codes.split(",") if c.strip())
