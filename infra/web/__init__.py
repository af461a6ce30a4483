"""HTTP plumbing shared by both APIs: problem+json errors, auth, health."""
