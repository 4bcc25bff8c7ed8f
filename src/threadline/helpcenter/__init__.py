"""The public help center at `/help/`: a brand's published articles, server-rendered per language (docs/self-service.md)."""
