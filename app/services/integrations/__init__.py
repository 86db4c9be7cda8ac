"""How other systems reach CareRoute: partner sites and the API keys of partners, clinics
and staff, each key scoped and revocable."""
