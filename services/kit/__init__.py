"""The service kit: what every Portail Famille service shares. No business logic here."""
