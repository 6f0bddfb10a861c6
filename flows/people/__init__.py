"""People and ties: roles, tweet chats, the interaction network, mentorship and superusers."""
