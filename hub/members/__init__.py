"""Members: who they are, their identities and consents, and merging two of them."""
