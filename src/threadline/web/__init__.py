"""The agent workspace (`/app/`): inbox views, the conversation and its customer's whole timeline, the
composer, collision detection, presence, search, and sign-in with optional TOTP."""
