"""Public social items (posts, comments, mentions) with their triage verdict, the workspace's rules that act on
them, and the public reply workflow (answer in public, move to private, hide, delete, do not answer; drafts
approved by a second agent when the workspace asks). docs/social.md."""
