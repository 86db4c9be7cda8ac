"""Clinics from application to listing: onboarding, staff review, credentials that
lapse, the public directory, the clinic's own listing, and the procedure catalogue."""
