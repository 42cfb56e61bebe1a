"""How an invoice line's codes read to people (the PDF, the staff's preview): French words."""

from __future__ import annotations

ATTENDANCE = {
    "reserved": "Réservé",
    "present": "Présent",
    "absent_unjustified": "Absence non justifiée",
    "absent_justified": "Absence justifiée",
}
# The codes people would not read as they are; the others (« matin », « repas ») read well.
UNIT_LABELS = {
    "journee": "journée",
    "apres_midi": "après-midi",
    "garderie_matin": "garderie matin",
    "garderie_soir": "garderie soir",
}
