"""The local coding web app (`ethnoflow code-app`): blind double coding, adjudication and memos."""
