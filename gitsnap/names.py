"""Names the CLI and the library share, importable without pydantic or dulwich (the CLI starts fast)."""

PROMPT_SOURCES = ("manual_save", "ai_apply", "checkpoint")
DEFAULT_PROMPT_SOURCE = "manual_save"
STUB_TYPE = "stub"
CHAT_TYPE = "gpt_chat_task"
SNAPSHOT_TYPES = (STUB_TYPE, CHAT_TYPE)
DEFAULT_SNAPSHOT_NAME = "_default"
DEFAULT_REPO = "gitsnap.git"
