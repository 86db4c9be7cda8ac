"""A patient's rights over their health data: consent and its withdrawal, requests for
a copy or erasure, retention, the keys that encrypt it, and the attachment files."""
