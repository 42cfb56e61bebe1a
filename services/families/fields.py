"""The catalogue of a family's and a person's fields: French labels and default access per role.

Defaults follow the manual ("Vous avez accès aux modifications de certains champs. Les
champs marqués d'un * sont obligatoires."): a family edits its contact details and its
children's practical information, reads its identity and quotient, and never writes the
protected fields, whatever staff configure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Access = Literal["hidden", "read", "edit", "mandatory"]
Entity = Literal["family", "person"]
PolicyRole = Literal["family", "staff"]

ACCESS_LEVELS: tuple[Access, ...] = ("hidden", "read", "edit", "mandatory")
WRITABLE: frozenset[str] = frozenset({"edit", "mandatory"})


@dataclass(frozen=True)
class FieldSpec:
    """One field: its label on screen and who may do what with it by default."""

    name: str
    label: str
    family: Access
    staff: Access
    # Protected fields are never written by a family: its access stays at most "read".
    protected: bool = False


FAMILY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "Nom de la famille", "read", "mandatory"),
    FieldSpec("address", "Adresse", "mandatory", "edit"),
    FieldSpec("address_complement", "Complément d'adresse", "edit", "edit"),
    FieldSpec("postal_code", "Code postal", "mandatory", "edit"),
    FieldSpec("city", "Commune", "mandatory", "edit"),
    FieldSpec("phone", "Téléphone du domicile", "edit", "edit"),
    FieldSpec("phone_other", "Autre téléphone", "edit", "edit"),
    FieldSpec("email", "Courriel", "mandatory", "edit"),
    FieldSpec("email_other", "Autre courriel", "edit", "edit"),
    FieldSpec("allocataire_regime", "Régime (CAF, MSA…)", "edit", "edit"),
    FieldSpec("allocataire_number", "N° d'allocataire", "edit", "edit"),
    FieldSpec("quotient", "Quotient familial", "read", "edit", protected=True),
    FieldSpec("quotient_date", "Date du quotient", "read", "edit", protected=True),
    FieldSpec("quotient_source", "Source du quotient", "read", "edit", protected=True),
    FieldSpec("billing_person_id", "Contact de facturation", "read", "edit", protected=True),
    FieldSpec("status", "Statut du dossier", "hidden", "edit", protected=True),
)

PERSON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("role", "Qualité", "read", "mandatory", protected=True),
    FieldSpec("first_name", "Prénom", "read", "mandatory"),
    FieldSpec("last_name", "Nom", "read", "mandatory"),
    FieldSpec("sex", "Sexe", "read", "edit"),
    FieldSpec("birth_date", "Date de naissance", "read", "edit"),
    FieldSpec("phone_mobile", "Téléphone portable", "edit", "edit"),
    FieldSpec("phone_work", "Téléphone professionnel", "edit", "edit"),
    FieldSpec("email", "Courriel", "edit", "edit"),
    FieldSpec("relationship", "Lien avec l'enfant", "edit", "edit"),
    FieldSpec("emergency_contact", "À prévenir en cas d'urgence", "edit", "edit"),
    FieldSpec("authorised_pickup", "Autorisé(e) à venir chercher l'enfant", "edit", "edit"),
    FieldSpec("school", "École", "edit", "edit"),
    FieldSpec("school_class", "Classe", "edit", "edit"),
    FieldSpec("doctor_name", "Médecin traitant", "edit", "edit"),
    FieldSpec("doctor_phone", "Téléphone du médecin", "edit", "edit"),
    FieldSpec("diet", "Régime alimentaire", "edit", "edit"),
    FieldSpec("allergies", "Allergies", "edit", "edit"),
    FieldSpec("pai", "PAI (projet d'accueil individualisé)", "read", "edit"),
    FieldSpec("pai_end_date", "Fin du PAI", "read", "edit"),
    FieldSpec("vaccination_dtp_date", "Dernier rappel DTP", "edit", "edit"),
    FieldSpec("vaccination_ror_date", "Vaccin ROR", "edit", "edit"),
    FieldSpec("photo_authorised", "Autorisation photo", "edit", "edit"),
    FieldSpec("may_leave_alone", "Autorisé(e) à partir seul(e)", "edit", "edit"),
    FieldSpec("insurance_company", "Assurance", "edit", "edit"),
    FieldSpec("insurance_number", "N° de contrat d'assurance", "edit", "edit"),
)

CATALOGUE: dict[Entity, dict[str, FieldSpec]] = {
    "family": {spec.name: spec for spec in FAMILY_FIELDS},
    "person": {spec.name: spec for spec in PERSON_FIELDS},
}

# A person's fields that describe an adult around the child — a work phone, an e-mail of
# one's own, the « lien avec l'enfant », being called in an emergency or fetching the child:
# a child's record never offers them, whatever the policy (docs/families.md). The mobile
# stays: a teenager may have one.
ADULTS_ONLY: frozenset[str] = frozenset(
    {"phone_work", "email", "relationship", "emergency_contact", "authorised_pickup"}
)

# A person's fields that describe the child in care — school and class, the « fiche
# sanitaire » (doctor, diet, allergies, PAI, vaccinations), the photo authorisation and going
# home alone: an adult's record (a responsable's, another contact's) never offers them,
# whatever the policy (docs/families.md). The insurance stays: the parents' contract often
# covers the child.
CHILDREN_ONLY: frozenset[str] = frozenset(
    {
        "school",
        "school_class",
        "doctor_name",
        "doctor_phone",
        "diet",
        "allergies",
        "pai",
        "pai_end_date",
        "vaccination_dtp_date",
        "vaccination_ror_date",
        "photo_authorised",
        "may_leave_alone",
    }
)

# Never in a family's request: identifiers and bookkeeping, refused as protected (not unknown).
SYSTEM_FIELDS: frozenset[str] = frozenset(
    {"id", "family_id", "person_id", "version", "created_at", "updated_at", "family_ids"}
)


def is_protected(entity: Entity, name: str) -> bool:
    """Whether a family may never write `name` on `entity`."""
    spec = CATALOGUE[entity].get(name)
    return name in SYSTEM_FIELDS or (spec is not None and spec.protected)


def label_of(entity: Entity, name: str) -> str:
    """A field's French label as the families screens show it (an unknown field as is): what
    the events carry, so that e-mails and « Historique de mes actions » name it alike."""
    spec = CATALOGUE[entity].get(name)
    return spec.label if spec else name


def applies_to(entity: Entity, name: str, person_role: str | None) -> bool:
    """Whether `name` belongs on a record of `person_role` (None: not a person's, or any)."""
    if entity != "person" or person_role is None:
        return True
    return name not in (ADULTS_ONLY if person_role == "child" else CHILDREN_ONLY)


def default_access(entity: Entity, name: str, role: PolicyRole) -> Access:
    """The manual's default access of a field for a role."""
    spec = CATALOGUE[entity][name]
    return spec.family if role == "family" else spec.staff
