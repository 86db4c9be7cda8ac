"""Who signs in: password hashing and checks, server-side sessions, staff accounts,
clinic users and the signed links that set their passwords."""
