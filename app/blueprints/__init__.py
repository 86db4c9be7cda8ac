"""One blueprint per audience: public, clinics, staff, portal, api (and dev-only mail)."""
