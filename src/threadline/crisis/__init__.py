"""Crisis detection: volume and negative-share anomalies in public mentions, the crisis events they open, the
crisis room, and what a team switches on during one (docs/social.md, "Crisis detection")."""
