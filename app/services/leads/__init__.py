"""A patient's inquiry from the form to its clinics: intake, dedup and routing, the
life cycle of its status, staff actions, the console's queries, export and dashboard."""
